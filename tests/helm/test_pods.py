"""The chart's pods, run for real: the exact command lines `helm template` renders for the
controller and the dataplane are started from the build tree (only addresses and mounted
file paths rewritten to 127.0.0.1 and a temp folder), the controller against the fake API
server, with the Helm-generated config-channel certificates. The dataplane must become
ready over mutual TLS; one holding a client certificate from another CA must not."""
import base64
import copy
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import chart_lib as lib

BUILD = os.environ.get("KEEL_BUILD_DIR", os.path.join(lib.ROOT, "build", "ci"))
BINARIES = {"/usr/local/bin/keel-controller": os.path.join(BUILD, "controller", "keel-controller"),
            "/usr/local/bin/keel-dataplane": os.path.join(BUILD, "dataplane", "keel-dataplane")}
FAKEAPI = os.path.join(lib.ROOT, "e2e", "fakeapi", "fakeapi.py")
MOUNT = "/etc/keel/config-tls/"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_secret(secret, folder):
    os.makedirs(folder)
    for key, value in secret["data"].items():
        with open(os.path.join(folder, key), "wb") as f:
            f.write(base64.b64decode(value))
    return folder + "/"


class ChartPods(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.procs = []
        cls.addClassCleanup(cls.cleanup)  # runs even when setUpClass fails further down
        d = cls.tmp.name
        cls.objs = lib.render()
        cls.foreign = lib.render()  # a second render: another CA
        cert, key = os.path.join(d, "api.crt"), os.path.join(d, "api.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        api = cls.spawn("fakeapi", [sys.executable, FAKEAPI, "--port", "0", "--token", "T", "--tls-cert", cert,
                                    "--tls-key", key], stdout=subprocess.PIPE)
        port = int(api.stdout.readline())
        cls.kubeconfig = os.path.join(d, "kubeconfig")
        with open(cls.kubeconfig, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                       "clusters": [{"name": "f", "cluster": {"server": f"https://127.0.0.1:{port}",
                                                              "certificate-authority": cert}}],
                       "users": [{"name": "u", "user": {"token": "T"}}],
                       "contexts": [{"name": "c", "context": {"cluster": "f", "user": "u"}}]}, f)
        cls.config_port = free_port()

    @classmethod
    def cleanup(cls):
        for p in reversed(cls.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for p in cls.procs:
            if p.stdout:
                p.stdout.close()
        cls.tmp.cleanup()

    @classmethod
    def spawn(cls, name, argv, env=None, stdout=None):
        path = os.path.join(cls.tmp.name, name + ".log")
        with open(path, "w") as log:  # the child keeps its own descriptor
            p = subprocess.Popen(argv, stdout=stdout or log, stderr=log, text=True, env=env)
        p.log_path = path
        cls.procs.append(p)
        return p

    @classmethod
    def command(cls, objs, kind, name, certs, rewrite):
        """The rendered container command, runnable here: each flag the chart sets is kept;
        addresses and mounted paths go through `rewrite` or the temp folder."""
        pod = lib.one(objs, kind, name)["spec"]["template"]["spec"]
        c = pod["containers"][0]
        argv = [BINARIES[c["command"][0]]]
        for a in c["args"]:
            flag, sep, value = a.partition("=")
            if flag in rewrite:
                value = rewrite[flag]
            value = value.replace(MOUNT, certs).replace("$(POD_NAME)", name + "-0")
            argv.append(flag + sep + value)
        return argv

    def start_controller(self):
        certs = write_secret(lib.one(self.objs, "Secret", "keel-controller-config-tls"),
                             os.path.join(self.tmp.name, "controller"))
        ports = {"grpc-config": self.config_port, "metrics": free_port()}
        argv = self.command(self.objs, "Deployment", "keel-controller", certs, {
            "--config-listen": f"127.0.0.1:{ports['grpc-config']}", "--metrics-listen": f"127.0.0.1:{ports['metrics']}"})
        env = dict(os.environ, POD_NAME="keel-controller-0", POD_NAMESPACE="keel")
        p = self.spawn("controller", argv + ["--kubeconfig", self.kubeconfig], env=env)
        p.ports, p.container = ports, self.container(self.objs, "Deployment", "keel-controller")
        return p

    def start_dataplane(self, name, objs):
        certs = write_secret(lib.one(objs, "Secret", "keel-dataplane-config-tls"), os.path.join(self.tmp.name, name))
        ports = {n: free_port() for n in ("http", "https", "admin", "metrics")}
        argv = self.command(objs, "Deployment", "keel-dataplane", certs, {
            # The server name stays keel-controller.keel.svc: the certificate must match it.
            "--controller": f"127.0.0.1:{self.config_port}", "--http-listen": f"127.0.0.1:{ports['http']}",
            "--https-listen": f"127.0.0.1:{ports['https']}", "--admin-listen": f"127.0.0.1:{ports['admin']}",
            "--metrics-listen": f"127.0.0.1:{ports['metrics']}"})
        p = self.spawn(name, argv)
        p.admin, p.ports, p.container = ports["admin"], ports, self.container(objs, "Deployment", "keel-dataplane")
        return p

    @staticmethod
    def container(objs, kind, name):
        return lib.one(objs, kind, name)["spec"]["template"]["spec"]["containers"][0]

    @staticmethod
    def probe_status(p, probe):
        """What the kubelet would see for an httpGet probe of the rendered pod spec."""
        get = p.container[probe]["httpGet"]
        named = {cp["name"]: cp["containerPort"] for cp in p.container["ports"]}
        port = get["port"] if isinstance(get["port"], int) else named[get["port"]]
        local = {named[n]: p.ports[n] for n in named}[port]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{local}{get['path']}", timeout=2) as r:
                return r.status
        except OSError as e:
            return getattr(e, "code", None)

    @staticmethod
    def tail(p):
        with open(p.log_path) as f:
            return f.read()[-2000:]

    @staticmethod
    def readyz(p):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{p.admin}/readyz", timeout=1) as r:
                return r.status
        except OSError as e:
            return getattr(e, "code", None)

    def wait_status(self, p, want, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if p.poll() is not None:
                self.fail(f"{p.args[0]} exited {p.returncode}: {self.tail(p)}")
            if self.readyz(p) == want:
                return True
            time.sleep(0.1)
        return False

    def test_rendered_pods_connect_over_mtls(self):
        controller = self.start_controller()
        good = self.start_dataplane("dataplane", self.objs)
        self.assertTrue(self.wait_status(good, 200, 30), self.tail(good))
        self.assertIsNone(controller.poll(), self.tail(controller))
        # The probes the chart renders pass on the running binaries.
        for p in (controller, good):
            for probe in ("livenessProbe", "readinessProbe"):
                self.assertEqual(self.probe_status(p, probe), 200, f"{p.args[0]} {probe}")

        # A dataplane that trusts our controller but holds a client certificate from another
        # CA (another release's) is refused by the controller and gets no snapshot.
        mixed = copy.deepcopy(self.objs)
        ours = lib.one(mixed, "Secret", "keel-dataplane-config-tls")["data"]
        theirs = lib.one(self.foreign, "Secret", "keel-dataplane-config-tls")["data"]
        ours.update({"tls.crt": theirs["tls.crt"], "tls.key": theirs["tls.key"]})
        stranger = self.start_dataplane("stranger", mixed)
        self.assertTrue(self.wait_status(stranger, 503, 10), "the stranger's admin never answered")
        time.sleep(3)
        self.assertEqual(self.readyz(stranger), 503, self.tail(stranger))
        self.assertEqual(self.readyz(good), 200)
        self.assertEqual(self.probe_status(stranger, "readinessProbe"), 503)


if __name__ == "__main__":
    lib.require_helm()
    unittest.main(verbosity=2)
