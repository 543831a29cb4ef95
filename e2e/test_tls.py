"""TLS end to end with curl, openssl s_client and Python's ssl module against the real
dataplane: SNI (exact, wildcard, default, generated), h2 by ALPN, the TLS 1.2 floor,
resumption, hot rotation under a live keep-alive connection, a broken Secret that
degrades only its host, the HTTP→HTTPS 308, and the mutually authenticated config
channel (BoringSSL dialer ↔ gRPC's OpenSSL server)."""
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import http.server
import textwrap
import time
import urllib.request
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from certs import mint, tls_secret  # noqa: E402
from harness import DEFAULT_CLASS, KeelTestCase, request, wait_until  # noqa: E402


def ingress(name, hosts_tls, rules_hosts, annotations=""):
    tls = "".join(f"    - hosts: [\"{h}\"]\n      secretName: {s}\n" for h, s in hosts_tls)
    rules = "".join(
        f"    - host: \"{h}\"\n      http:\n        paths:\n"
        f"          - {{path: /, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}\n"
        for h in rules_hosts)
    return (f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: default\n"
            f"  creationTimestamp: \"2026-01-01T00:00:00Z\"\n{annotations}spec:\n  ingressClassName: keel\n"
            + (f"  tls:\n{tls}" if tls else "") + f"  rules:\n{rules}")


def s_client(port, servername=None, extra=()):
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *extra]
    if servername:
        argv += ["-servername", servername]
    r = subprocess.run(argv, input=b"", capture_output=True, timeout=10)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def subject_cn(port, servername):
    rc, out = s_client(port, servername)
    m = re.search(r"subject=.*?CN\s*=\s*([^,\n]+)", out)
    assert m, out
    return m.group(1).strip()


def client_context(max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if max_version:
        ctx.maximum_version = max_version
    return ctx


def tls_connect(port, servername, ctx=None, session=None):
    ctx = ctx or client_context()
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname=servername,
                           session=session)


def peer_cn(sock):
    der = sock.getpeercert(binary_form=True)
    pem = ssl.DER_cert_to_PEM_cert(der)
    out = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem.encode(), capture_output=True).stdout
    return re.search(r"CN\s*=\s*([^,\n]+)", out.decode()).group(1).strip()


def http_over(sock, host, path="/"):
    """One keep-alive HTTP/1.1 request on an open socket; returns (status, body)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, body = buf.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    while len(body) < n:
        body += sock.recv(65536)
    return int(head.split()[1]), body[:n]


class TlsTest(KeelTestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="keel-e2e-tls-certs-")
        d = cls.certs
        cls.a = mint(d, "a", "a.test", "DNS:a.test")
        cls.a2 = mint(d, "a2", "a.test renewed", "DNS:a.test")
        cls.wild = mint(d, "wild", "wildcard.test", "DNS:*.wild.test")
        cls.default = mint(d, "default", "default.test", "DNS:default.test")
        cls.other = mint(d, "other", "other.test", "DNS:other.test")
        cls.bad = (cls.other[0], cls.a[1])  # a key that does not match its certificate

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certs, ignore_errors=True)

    def world(self, env, a=None):
        a = a or self.a
        web = env.start_echo("echo-web")
        docs = [DEFAULT_CLASS.strip("-\n"), textwrap.dedent(env.service("web", [web])),
                tls_secret("a-tls", *a), tls_secret("wild-tls", *self.wild),
                tls_secret("default-tls", *self.default), tls_secret("bad-tls", *self.bad),
                tls_secret("open-tls", *self.other),
                ingress("secure", [("a.test", "a-tls"), ("*.wild.test", "wild-tls"), ("bad.test", "bad-tls")],
                        ["a.test", "*.wild.test", "bad.test", "plain.test"]),
                ingress("open", [("open.test", "open-tls")], ["open.test"],
                        "  annotations:\n    nginx.ingress.kubernetes.io/ssl-redirect: \"false\"\n")]
        env.write("world.yaml", "\n---\n".join(docs))

    def start(self, env, extra=()):
        self.world(env)
        env.start_controller(extra=["--default-ssl-certificate", "default/default-tls"])
        dp = env.start_dataplane(workers=2, extra=extra)
        env.wait_ready(dp)
        wait_until(lambda: request(dp.http_port, "/", host="plain.test").status == 200, what="routes")
        return dp

    def test_sni_alpn_versions_redirect(self):
        env = self.env()
        dp = self.start(env)
        port = dp.https_port
        # SNI: exact, wildcard (one label), the default Secret, a broken Secret's host.
        self.assertEqual(subject_cn(port, "a.test"), "a.test")
        self.assertEqual(subject_cn(port, "x.wild.test"), "wildcard.test")
        self.assertEqual(subject_cn(port, "y.x.wild.test"), "default.test")
        self.assertEqual(subject_cn(port, "unknown.test"), "default.test")
        self.assertEqual(subject_cn(port, "bad.test"), "default.test")
        self.assertIn("TLSKeyMismatch", env.log("controller"))
        # h2 by ALPN, and HTTP/1.1 when asked; the upstream sees X-Forwarded-Proto https.
        for flag, version in (("--http2", "2"), ("--http1.1", "1.1")):
            r = subprocess.run(["curl", "-sk", flag, "--resolve", f"a.test:{port}:127.0.0.1",
                                "-w", "\n%{http_code} %{http_version}", f"https://a.test:{port}/hello"],
                               capture_output=True, timeout=10)
            body, status = r.stdout.decode().rsplit("\n", 1)
            self.assertEqual(status, f"200 {version}", r.stderr)
            seen = json.loads(body)
            headers = {k.lower(): v for k, v in seen["headers"].items()}
            self.assertEqual(headers.get("x-forwarded-proto"), "https")
        # TLS 1.1 refused by the server (the client is allowed to offer it), 1.2 accepted.
        rc, out = s_client(port, "a.test", ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"(?i)protocol version|unsupported protocol")
        rc, out = s_client(port, "a.test", ["-tls1_2"])
        self.assertEqual(rc, 0, out)
        self.assertIn("ECDHE", out)
        # Resumption (TLS 1.2 session ticket / cache).
        ctx12 = client_context(ssl.TLSVersion.TLSv1_2)
        s1 = tls_connect(port, "a.test", ctx12)
        self.assertEqual(http_over(s1, "a.test")[0], 200)
        s2 = tls_connect(port, "a.test", ctx12, session=s1.session)
        self.assertTrue(s2.session_reused)
        s1.close(), s2.close()
        # HTTP → HTTPS: 308 with path and query for TLS hosts; not for plain hosts, nor
        # where ssl-redirect is off.
        r = request(dp.http_port, "/p/q?x=1", host="a.test")
        self.assertEqual(r.status, 308)
        self.assertEqual(r.headers.get("location"), "https://a.test/p/q?x=1")
        self.assertEqual(request(dp.http_port, "/", host="plain.test").status, 200)
        self.assertEqual(request(dp.http_port, "/", host="open.test").status, 200)
        stats = env.admin(dp, "/stats").json()["tls_handshakes"]
        self.assertGreaterEqual(stats["tls1_3"], 5)
        self.assertGreaterEqual(stats["tls1_2"], 2)
        self.assertGreaterEqual(stats["resumed"], 1)
        self.assertGreaterEqual(stats["failed"], 1)
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{dp.metrics_port}/metrics", timeout=5).read().decode()
        m = re.search(r'keel_tls_handshakes_total\{protocol="TLSv1.3"\} (\d+)', metrics)
        self.assertIsNotNone(m, metrics[:2000])
        self.assertEqual(int(m.group(1)), stats["tls1_3"])

    def test_handshake_deadline_and_garbage(self):
        env = self.env()
        dp = self.start(env, extra=["--header-timeout-ms", "700"])
        # A client that connects and says nothing is dropped at the handshake deadline.
        idle = socket.create_connection(("127.0.0.1", dp.https_port), timeout=10)
        t0 = time.time()
        self.assertEqual(idle.recv(1), b"")
        self.assertGreater(time.time() - t0, 0.5)
        idle.close()
        # Plain HTTP on the TLS port: a failed handshake, the connection closed.
        plain = socket.create_connection(("127.0.0.1", dp.https_port), timeout=10)
        plain.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        data = b""
        while chunk := plain.recv(4096):
            data += chunk
        self.assertNotIn(b"HTTP/1.1", data)
        plain.close()
        stats = env.admin(dp, "/stats").json()["tls_handshakes"]
        self.assertEqual(stats["timed_out"], 1)
        self.assertEqual(stats["failed"], 1)
        # The listener still serves real clients.
        self.assertEqual(subject_cn(dp.https_port, "a.test"), "a.test")

    def test_upstream_tls(self):
        """backend-protocol: HTTPS — the dataplane speaks TLS to the backend."""
        seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                seen.append((self.path, self.connection.version()))
                body = b"over tls\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self.other)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        env = self.env()
        env.write("world.yaml", "\n---\n".join([
            DEFAULT_CLASS.strip("-\n"), textwrap.dedent(env.service("web", [srv.server_address[1]])),
            ingress("secure-backend", [], ["backend.test"],
                    "  annotations:\n    nginx.ingress.kubernetes.io/backend-protocol: \"HTTPS\"\n")]))
        env.start_controller()
        dp = env.start_dataplane(workers=1)
        env.wait_ready(dp)
        wait_until(lambda: request(dp.http_port, "/x", host="backend.test").status == 200, what="TLS upstream")
        r = request(dp.http_port, "/y?z=1", host="backend.test")
        self.assertEqual(r.body, b"over tls\n")
        self.assertIn(("/y?z=1", "TLSv1.3"), seen)

    def test_rotation_keeps_live_connections(self):
        env = self.env()
        dp = self.start(env)
        port = dp.https_port
        old = tls_connect(port, "a.test")
        self.assertEqual(peer_cn(old), "a.test")
        self.assertEqual(http_over(old, "a.test")[0], 200)
        self.world(env, a=self.a2)  # the Secret is renewed
        wait_until(lambda: subject_cn(port, "a.test") == "a.test renewed", what="new certificate")
        # The connection opened before the rotation still works, with its certificate.
        self.assertEqual(http_over(old, "a.test")[0], 200)
        self.assertEqual(peer_cn(old), "a.test")
        old.close()


class ConfigChannelTest(KeelTestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="keel-e2e-mtls-")
        d = cls.certs
        cls.ca = mint(d, "ca", "keel test CA", "")
        cls.server = mint(d, "server", "keel-controller", "DNS:keel-controller,IP:127.0.0.1", ca=cls.ca)
        cls.client = mint(d, "client", "dataplane", "DNS:dataplane", ca=cls.ca)
        cls.rogue_ca = mint(d, "rogue-ca", "rogue CA", "")
        cls.rogue = mint(d, "rogue", "dataplane", "DNS:dataplane", ca=cls.rogue_ca)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certs, ignore_errors=True)

    def dp_channel(self, identity, server_name="keel-controller"):
        return ["--config-tls-cert", identity[0], "--config-tls-key", identity[1], "--config-tls-ca", self.ca[0],
                "--config-tls-server-name", server_name]

    def test_mutual_tls(self):
        env = self.env()
        web = env.start_echo("echo-web")
        env.write("world.yaml", DEFAULT_CLASS + textwrap.dedent(env.service("web", [web])) + "---\n" +
                  ingress("w", [], ["w.test"]))
        env.start_controller(channel=["--config-tls-cert", self.server[0], "--config-tls-key", self.server[1],
                                      "--config-tls-ca", self.ca[0]])
        good = env.start_dataplane("dp-good", workers=1, channel=self.dp_channel(self.client))
        env.wait_ready(good)
        wait_until(lambda: request(good.http_port, "/", host="w.test").status == 200, what="route over mTLS")
        # A client certificate from another CA, a controller name that does not match,
        # and no client certificate at all: no configuration flows.
        rogue = env.start_dataplane("dp-rogue", workers=1, channel=self.dp_channel(self.rogue))
        misnamed = env.start_dataplane("dp-misnamed", workers=1,
                                       channel=self.dp_channel(self.client, server_name="evil.test"))
        # Without a client certificate the controller hangs up right after the handshake
        # (an alert, or a bare close): s_client waits for it (-ign_eof) and would time
        # out on a server that kept the connection open.
        for version in ("-tls1_2", "-tls1_3"):
            rc, out = s_client(env.config_port, extra=["-CAfile", self.ca[0], "-alpn", "h2", "-ign_eof", version])
            self.assertIn("Verify return code: 0 (ok)", out)
            self.assertRegex(out, r"(?i)alert certificate required|alert handshake failure|unexpected eof", out)
        time.sleep(2)
        for dp in (rogue, misnamed):
            self.assertEqual(request(dp.admin_port, "/readyz").status, 503, env.log(dp.name))
        self.assertIn("server certificate", env.log("dp-misnamed"))
        # The good dataplane reconnects (new TLS connection) after a controller restart.
        ctl = [p for p in env.procs if p.name == "controller"][0]
        env.stop(ctl)
        env.start_controller_on(env.config_port, channel=["--config-tls-cert", self.server[0],
                                                          "--config-tls-key", self.server[1],
                                                          "--config-tls-ca", self.ca[0]])
        wait_until(lambda: env.admin(good, "/stats").json()["config_connected"], timeout=20, what="reconnect")
        self.assertEqual(request(good.http_port, "/", host="w.test").status, 200)

    def test_refuses_to_start_without_tls_material(self):
        import harness
        p = subprocess.run([os.path.join(harness.BUILD, "dataplane", "keel-dataplane"), "--controller",
                            "127.0.0.1:1", "--https-listen", ""], capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--config-tls-cert", p.stderr)


if __name__ == "__main__":
    unittest.main()
