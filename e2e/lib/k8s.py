"""Kubernetes-mode end-to-end harness: the fake API server over HTTPS, the controller
pointed at it with a kubeconfig, two dataplanes, echo backends, and the real kubectl
that users would run. Builds on harness.Env, so every process it starts is stopped at
the end of the test, also when the test fails.
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

from harness import BUILD, ROOT, Env, KeelTestCase, free_port, request, wait_until

TLS = os.path.join(ROOT, "tests", "k8s", "testdata", "tls")  # server cert for 127.0.0.1, its CA
TOKEN = "e2e-token"
PUBLISH = "203.0.113.7"  # --publish-address (TEST-NET-3: never routed)

# Our IngressClass as the cluster default, and another controller's class.
CLASSES = """
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: keel
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: keel.dev/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: other}
spec: {controller: example.com/other-controller}
"""


def find_kubectl():
    for candidate in (os.environ.get("KUBECTL"), shutil.which("kubectl"),
                      os.path.join(ROOT, ".cache", "tools", "bin", "kubectl")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def ingress(name, rules=(), default_backend=None, cls=None, annotations=None):
    """An Ingress manifest. rules: [(host, [(path, pathType, service)])]."""
    spec = {}
    if cls:
        spec["ingressClassName"] = cls
    if default_backend:
        spec["defaultBackend"] = {"service": {"name": default_backend, "port": {"number": 80}}}
    if rules:
        spec["rules"] = []
        for host, paths in rules:
            rule = {"http": {"paths": [{"path": p, "pathType": t,
                                        "backend": {"service": {"name": s, "port": {"number": 80}}}}
                                       for p, t, s in paths]}}
            if host:
                rule["host"] = host
            spec["rules"].append(rule)
    meta = {"name": name, "namespace": "default"}
    if annotations:
        meta["annotations"] = annotations
    # JSON is YAML: no quoting pitfalls with "*.foo.com" or regex paths.
    return json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec})


class K8sEnv(Env):
    def __init__(self, name):
        super().__init__(name)
        self.kubectl_bin = find_kubectl()
        self.state_file = os.path.join(self.dir, "api-state.json")
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.api_port = None
        self.dataplanes = []

    # ── fake API server ──
    def start_api(self, port=0):
        argv = [sys.executable, os.path.join(ROOT, "e2e", "fakeapi", "fakeapi.py"), "--port", str(port),
                "--token", TOKEN, "--tls-cert", os.path.join(TLS, "server.crt"),
                "--tls-key", os.path.join(TLS, "server.key"), "--state-file", self.state_file,
                "--bookmark-interval", "2"]
        p = self._spawn("fakeapi", argv, stdout=subprocess.PIPE)
        self.api_port = int(p.stdout.readline())
        self.api = p
        with open(self.kubeconfig, "w") as f:
            f.write(textwrap.dedent(f"""\
                apiVersion: v1
                kind: Config
                current-context: fake
                clusters:
                - name: fake
                  cluster: {{server: "https://127.0.0.1:{self.api_port}", certificate-authority: "{TLS}/ca.crt"}}
                users:
                - name: e2e
                  user: {{token: {TOKEN}}}
                contexts:
                - name: fake
                  context: {{cluster: fake, user: e2e}}
                """))
        return p

    def restart_api(self):
        self.stop(self.api)
        return self.start_api(self.api_port)

    # ── kubectl ──
    def kubectl(self, *args, stdin=None, check=True):
        argv = [self.kubectl_bin, "--kubeconfig", self.kubeconfig, "--cache-dir",
                os.path.join(self.dir, "kubectl-cache"), "--request-timeout", "10s", *args]
        r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r.stdout

    def apply(self, manifest):
        return self.kubectl("apply", "-f", "-", stdin=textwrap.dedent(manifest))

    def get_json(self, *args):
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def backend_service(self, name, count):
        """Starts `count` echo backends and applies their Service and EndpointSlices."""
        ports = [self.start_echo(f"{name}-{i}") for i in range(count)]
        self.apply(self.service(name, ports))
        return ports

    # ── keel ──
    def start_controller_k8s(self, config_port=None, extra=()):
        self.config_port = config_port or self.__dict__.get("config_port") or free_port()
        self.controller_metrics_port = free_port()
        argv = [os.path.join(BUILD, "controller", "keel-controller"), "--kubeconfig", self.kubeconfig,
                "--config-listen", f"127.0.0.1:{self.config_port}", "--insecure-config-channel",
                "--metrics-listen", f"127.0.0.1:{self.controller_metrics_port}", "--publish-address", PUBLISH,
                "--log-level", "debug", *extra]
        self.controller = self._spawn("controller", argv)
        return self.controller

    def start_dataplanes(self, count=2):
        self.dataplanes = [self.start_dataplane(f"dataplane-{i}", workers=1) for i in range(count)]
        for dp in self.dataplanes:
            self.wait_ready(dp)
        return self.dataplanes

    def get(self, path="/", host="example.test", dp=0, **kw):
        return request(self.dataplanes[dp].http_port, path, host, **kw)

    def wait_served(self, path, host, instance_prefix=None, timeout=15):
        """Waits until every dataplane answers 200 (from `instance_prefix*` if given)."""
        def ok():
            for i in range(len(self.dataplanes)):
                r = self.get(path, host, dp=i, timeout=2)
                if r.status != 200:
                    return False
                if instance_prefix and not r.json()["instance"].startswith(instance_prefix):
                    return False
            return True
        wait_until(ok, timeout, what=f"{host}{path} served by every dataplane (controller log: "
                                     f"{self.controller.log_path})")


class K8sTestCase(KeelTestCase):
    """A fresh world per test: API server, classes applied, controller, two dataplanes."""

    def world(self, dataplanes=2, controller_extra=()):
        env = K8sEnv(self.id().split(".")[-1])
        self.addCleanup(env.stop_all)
        if env.kubectl_bin is None:
            self.skipTest("kubectl not found ($KUBECTL, PATH, .cache/tools/bin)")
        env.start_api()
        env.apply(CLASSES)
        env.start_controller_k8s(extra=controller_extra)
        env.start_dataplanes(dataplanes)
        return env


def instance(r):
    assert r.status == 200, f"status {r.status}: {r.body[:200]!r}"
    return r.json()["instance"]


__all__ = ["CLASSES", "K8sEnv", "K8sTestCase", "PUBLISH", "ingress", "instance", "request", "time",
           "wait_until"]
