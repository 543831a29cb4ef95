"""Process harness for end-to-end tests: real keel binaries, echo backends, and the
manifests folder, all on 127.0.0.1, every process stopped at the end (also on failure).

Binaries are found through KEEL_BUILD_DIR (set by CTest) or ./build/ci.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("KEEL_BUILD_DIR", os.path.join(ROOT, "build", "ci"))


# Our IngressClass, marked as the cluster default: the first document of most test worlds.
DEFAULT_CLASS = """
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: keel
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: keel.dev/ingress-controller}
---
"""


_handed_out = set()


def free_port():
    """A port free now and not handed out before by this process: the processes that
    will bind the earlier ones may not have started yet, and the kernel would happily
    offer the same port again (seen: a dataplane's admin port = the controller's)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def wait_until(fn, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # not up yet
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def request(port, path="/", host="example.test", method="GET", headers=None, body=None, timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = {"Host": host}
        h.update(headers or {})
        chunked = h.get("Transfer-Encoding", "").lower() == "chunked"
        conn.request(method, path, body=body, headers=h, encode_chunked=chunked)
        r = conn.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


class Env:
    """One test's world. Use as a context manager; everything started is stopped."""

    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix=f"keel-e2e-{name}-")
        self.manifests = os.path.join(self.dir, "manifests")
        os.makedirs(self.manifests)
        self.procs = []
        self.backends = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()
        return False

    def _spawn(self, name, argv, **kw):
        log_path = os.path.join(self.dir, name + ".log")
        with open(log_path, "wb") as log:  # the child keeps its own copy of the fd
            p = subprocess.Popen(argv, stdout=kw.pop("stdout", log), stderr=log, **kw)
        p.log_path = log_path
        p.name = name
        self.procs.append(p)
        return p

    def log(self, name):
        with open(os.path.join(self.dir, name + ".log"), "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p.stdout:
            p.stdout.close()
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p, signal.SIGKILL if p.name.startswith("echo") else signal.SIGTERM)

    # ── backends ──
    def start_echo(self, name):
        p = self._spawn(name, [sys.executable, os.path.join(ROOT, "e2e", "backends", "echo.py"), "--port", "0",
                               "--name", name], stdout=subprocess.PIPE)
        port = int(p.stdout.readline())
        self.backends[name] = (p, port)
        return port

    # ── manifests ──
    def write(self, filename, yaml_text):
        path = os.path.join(self.manifests, filename)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(textwrap.dedent(yaml_text))
        os.replace(tmp, path)  # atomic: the controller never reads half a file

    def remove(self, filename):
        os.remove(os.path.join(self.manifests, filename))

    def service(self, name, ports, namespace="default", ready=None):
        """A Service and one EndpointSlice per backend: all backends listen on 127.0.0.1
        and differ only by port, and a slice's ports apply to all of its endpoints."""
        docs = [f"""
            apiVersion: v1
            kind: Service
            metadata: {{name: {name}, namespace: {namespace}}}
            spec:
              ports: [{{name: http, port: 80, targetPort: http, protocol: TCP}}]
            """]
        for i, port in enumerate(ports):
            is_ready = "true" if ready is None or ready[i] else "false"
            docs.append(f"""
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: {name}-{i}
              namespace: {namespace}
              labels: {{kubernetes.io/service-name: {name}}}
            addressType: IPv4
            ports: [{{name: http, port: {port}, protocol: TCP}}]
            endpoints:
              - addresses: ["127.0.0.1"]
                conditions: {{ready: {is_ready}}}
                targetRef: {{kind: Pod, name: {name}-{i}}}
            """)
        return "---".join(docs)

    # ── keel ──
    def start_controller(self, extra=(), channel=("--insecure-config-channel",)):
        return self.start_controller_on(free_port(), extra, channel)

    def start_controller_on(self, config_port, extra=(), channel=("--insecure-config-channel",)):
        """`channel`: the config-stream security flags (plaintext unless told)."""
        self.config_port = config_port
        metrics_port = free_port()
        argv = [os.path.join(BUILD, "controller", "keel-controller"), "--manifests", self.manifests,
                "--config-listen", f"127.0.0.1:{self.config_port}", *channel,
                "--metrics-listen", f"127.0.0.1:{metrics_port}", "--log-level", "debug", *extra]
        p = self._spawn("controller", argv)
        p.metrics_port = metrics_port
        return p

    def start_dataplane(self, name="dataplane", workers=2, extra=(), channel=("--insecure-config-channel",)):
        http_port, https_port, admin_port, metrics_port = free_port(), free_port(), free_port(), free_port()
        argv = [os.path.join(BUILD, "dataplane", "keel-dataplane"), "--controller", f"127.0.0.1:{self.config_port}",
                *channel, "--node-id", name, "--workers", str(workers),
                "--http-listen", f"127.0.0.1:{http_port}", "--https-listen", f"127.0.0.1:{https_port}",
                "--admin-listen", f"127.0.0.1:{admin_port}", "--metrics-listen", f"127.0.0.1:{metrics_port}", *extra]
        p = self._spawn(name, argv)
        p.http_port, p.https_port, p.admin_port, p.metrics_port = http_port, https_port, admin_port, metrics_port
        return p

    def wait_ready(self, dp, timeout=15):
        def ready():
            return request(dp.admin_port, "/readyz", timeout=1).status == 200
        wait_until(ready, timeout, what=f"{dp.name} ready (log: {dp.log_path})")

    def admin(self, dp, path):
        return request(dp.admin_port, path)


class KeelTestCase(unittest.TestCase):
    def env(self):
        e = Env(self.id().split(".")[-1])
        self.addCleanup(e.stop_all)
        return e
