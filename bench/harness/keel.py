"""keel as a system under test: keel-controller in manifests mode (on the load core; it
is idle during load runs) and keel-dataplane with one worker on the proxy core. The
manifests are generated here: one Service whose EndpointSlices point at the backend, an
Ingress for `/` and one for `/cached` with `keel.dev/cache: "true"`, both with TLS.
"""
import base64
import http.client
import os
import subprocess
import time

from .procs import LOAD_CORE, PROXY_CORE, Proc, free_port, wait_port
from .systems import HOST, System, make_cert

CLASS = """apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: keel
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: keel.dev/ingress-controller}
"""


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # the controller never reads half a file


def service_yaml(name, ports, namespace="default"):
    """A Service and one EndpointSlice per port (a slice's ports apply to all its endpoints)."""
    docs = [f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  ports: [{{name: http, port: 80, targetPort: http, protocol: TCP}}]
"""]
    for i, port in enumerate(ports):
        docs.append(f"""apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {name}-{port}
  namespace: {namespace}
  labels: {{kubernetes.io/service-name: {name}}}
addressType: IPv4
ports: [{{name: http, port: {port}, protocol: TCP}}]
endpoints:
  - addresses: ["127.0.0.1"]
    conditions: {{ready: true}}
    targetRef: {{kind: Pod, name: {name}-{port}}}
""")
    return "---\n".join(docs)


def ingress_yaml(name, host, service, path="/", annotations=None, tls_secret=None, namespace="default"):
    ann = dict(annotations or {})
    ann_text = "".join(f'\n    {k}: "{v}"' for k, v in ann.items())
    tls = f"\n  tls: [{{hosts: [{host}], secretName: {tls_secret}}}]" if tls_secret else ""
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: {namespace}
  annotations:{ann_text or " {}"}
spec:{tls}
  rules:
    - host: {host}
      http:
        paths:
          - {{path: {path}, pathType: Prefix, backend: {{service: {{name: {service}, port: {{number: 80}}}}}}}}
"""


def tls_secret_yaml(d, name):
    crt, key, _ = make_cert(d)
    b64 = lambda p: base64.b64encode(open(p, "rb").read()).decode()
    return f"""apiVersion: v1
kind: Secret
metadata: {{name: {name}, namespace: default}}
type: kubernetes.io/tls
data:
  tls.crt: {b64(crt)}
  tls.key: {b64(key)}
"""


def status(port, host=HOST, path="/", timeout=1.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers={"Host": host})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


class Keel(System):
    name = "keel"

    def __init__(self, d, build, upstream_ports, manifests=None, try_tls=True, controller_log="warn", wrap=None):
        super().__init__()
        self.d, self.build = d, build
        self.wrap = wrap or []  # e.g. valgrind: harness/perrequest.py
        self.manifests = manifests or os.path.join(d, "keel-manifests")
        os.makedirs(self.manifests, exist_ok=True)
        if manifests is None:
            write_atomic(os.path.join(self.manifests, "00-class.yaml"), CLASS)
            self.set_endpoints(upstream_ports)
            no_redirect = {"nginx.ingress.kubernetes.io/ssl-redirect": "false"}
            write_atomic(os.path.join(self.manifests, "20-ingress.yaml"), "---\n".join([
                tls_secret_yaml(d, "bench-tls"),
                ingress_yaml("bench", HOST, "backend", "/", no_redirect, "bench-tls"),
                ingress_yaml("bench-cached", HOST, "backend", "/cached",
                             {**no_redirect, "keel.dev/cache": "true"}, "bench-tls")]))
        self.config_port, self.admin = free_port(), free_port()
        self.http = self.h2 = free_port()  # h1 and h2c prior knowledge share the listener
        self.controller = Proc("keel-controller", [
            os.path.join(build, "controller", "keel-controller"), "--manifests", self.manifests,
            "--config-listen", f"127.0.0.1:{self.config_port}", "--insecure-config-channel",
            "--metrics-listen", f"127.0.0.1:{free_port()}", "--log-level", controller_log], d, LOAD_CORE)
        self.dataplane = None
        if try_tls:
            self.tls = free_port()
            dp = self._dataplane(["--https-listen", f"127.0.0.1:{self.tls}"])
            time.sleep(0.3)
            if dp.alive():
                self.dataplane = dp
            else:
                self.unsupported["tls"] = "this build: " + dp.log_tail(1)
                self.tls = None
        if self.dataplane is None:
            self.dataplane = self._dataplane([])
        self.procs = [self.dataplane]  # CPU per request counts the dataplane only

    def _dataplane(self, extra):
        if self._has_flag("--access-log"):
            extra = ["--access-log", "off", *extra]  # logs off everywhere (on by default in keel)
        p = Proc("keel-dataplane", [
            *self.wrap, os.path.join(self.build, "dataplane", "keel-dataplane"), "--controller", f"127.0.0.1:{self.config_port}",
            "--insecure-config-channel", "--node-id", "bench", "--workers", "1", "--log-level", "warn",
            "--http-listen", f"127.0.0.1:{self.http}", "--admin-listen", f"127.0.0.1:{self.admin}",
            "--metrics-listen", f"127.0.0.1:{free_port()}", *extra], self.d, PROXY_CORE)
        return p

    def _has_flag(self, flag):
        if not hasattr(self, "_help"):
            self._help = subprocess.run([os.path.join(self.build, "dataplane", "keel-dataplane"), "--help"],
                                        capture_output=True, text=True).stdout
        return flag + "=" in self._help

    def set_endpoints(self, ports):
        write_atomic(os.path.join(self.manifests, "10-backend.yaml"), service_yaml("backend", ports))

    def wait_routable(self, host=HOST, path="/", timeout=60.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.dataplane.alive():
                raise RuntimeError(f"keel-dataplane exited: {self.dataplane.log_tail()}")
            try:
                if status(self.http, host, path) == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"keel never routed {host}{path}: {self.dataplane.log_tail()} / "
                           f"{self.controller.log_tail()}")

    def stop(self):
        self.dataplane.stop()
        self.controller.stop()
