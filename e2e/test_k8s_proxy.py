"""Issue 9 scenarios 7, 14 and 15 in Kubernetes mode: TLS with a Secret created by
`kubectl create secret tls` (SNI, then rotation); an HTTP/2 client, and gRPC backends
behind a Service whose port says `appProtocol: kubernetes.io/h2c`; and a WebSocket
through the proxy; each on both dataplanes."""
import json
import os
import socket
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from certs import mint, read  # noqa: E402
from grpc_tool import grpc_call, start_grpc  # noqa: E402
from harness import free_port  # noqa: E402
from k8s import K8sTestCase, ingress, instance, wait_until  # noqa: E402


def served_certificate(port, servername):
    """DER bytes of the certificate the dataplane presents for `servername`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                         server_hostname=servername) as s:
        return s.getpeercert(binary_form=True)


def https_get(port, host, path="/"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname=host) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def der(crt_path):
    return ssl.PEM_cert_to_DER_cert(read(crt_path))


def websocket_roundtrip(port, host, path, texts):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(1)
            if not chunk:
                raise AssertionError(f"connection closed during the handshake: {head!r}")
            head += chunk
        echoed = []
        for text in texts:
            mask = b"\x01\x02\x03\x04"
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(text))
            length = bytes([0x80 | len(text)]) if len(text) < 126 else bytes([0x80 | 126]) + len(text).to_bytes(2, "big")
            s.sendall(b"\x81" + length + mask + masked)
            want = 2 + (0 if len(text) < 126 else 2) + len(text)
            frame = b""
            while len(frame) < want:
                chunk = s.recv(4096)
                if not chunk:
                    break
                frame += chunk
            echoed.append(frame[-len(text):] if frame[:1] == b"\x81" else frame)
        return head, echoed
    finally:
        s.close()


class K8sProxyTest(K8sTestCase):
    def test_07_tls_sni_and_rotation(self):
        env = self.world()
        a = mint(env.dir, "a", "a.test", "DNS:a.test")
        renewed = mint(env.dir, "a2", "a.test renewed", "DNS:a.test")
        other = mint(env.dir, "b", "b.test", "DNS:b.test")
        env.backend_service("web", 1)
        # kubectl builds the Secret (base64 data) and applies it; a plain `kubectl create`
        # would POST protobuf, which the fake API server does not speak.
        for name, (crt, key) in (("a-tls", a), ("b-tls", other)):
            env.apply(env.kubectl("create", "secret", "tls", name, f"--cert={crt}", f"--key={key}",
                                  "--dry-run=client", "-o", "json"))
        doc = json.loads(ingress("secure", rules=[("a.test", [("/", "Prefix", "web")]),
                                                  ("b.test", [("/", "Prefix", "web")])]))
        doc["spec"]["tls"] = [{"hosts": ["a.test"], "secretName": "a-tls"},
                              {"hosts": ["b.test"], "secretName": "b-tls"}]
        env.apply(json.dumps(doc))
        for dp in env.dataplanes:
            wait_until(lambda: https_get(dp.https_port, "a.test")[0] == 200, 15, what=f"HTTPS on {dp.name}")
            # SNI picks each host's Secret.
            self.assertEqual(served_certificate(dp.https_port, "a.test"), der(a[0]))
            self.assertEqual(served_certificate(dp.https_port, "b.test"), der(other[0]))
            status, body = https_get(dp.https_port, "b.test", "/x")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["headers"].get("x-forwarded-proto"), "https")
        # Rotation the way cert-manager or a user does it: the Secret is replaced in place.
        rotated = env.kubectl("create", "secret", "tls", "a-tls", f"--cert={renewed[0]}", f"--key={renewed[1]}",
                              "--dry-run=client", "-o", "json")
        env.apply(rotated)
        for dp in env.dataplanes:
            wait_until(lambda: served_certificate(dp.https_port, "a.test") == der(renewed[0]), 15,
                       what=f"the renewed certificate on {dp.name}")
            self.assertEqual(served_certificate(dp.https_port, "b.test"), der(other[0]))
            self.assertEqual(https_get(dp.https_port, "a.test")[0], 200)

    def test_14_http2_client_and_grpc_backend(self):
        env = self.world()
        env.backend_service("web", 1)
        ports = [free_port(), free_port()]
        for i, port in enumerate(ports):
            start_grpc(env, f"grpc-{i}", port)
        # The Kubernetes way to say "speak h2c to these pods": the Service port's
        # appProtocol (no ingress-nginx annotation involved).
        svc = env.service("grpc", ports).replace("targetPort: http, protocol: TCP}",
                                                 "targetPort: http, protocol: TCP, appProtocol: kubernetes.io/h2c}")
        self.assertIn("appProtocol", svc)
        env.apply(svc)
        env.apply(ingress("grpc", rules=[("grpc.test", [("/", "Prefix", "grpc")])]))
        env.apply(ingress("web", rules=[("web.test", [("/", "Prefix", "web")])]))
        env.wait_served("/", "web.test", "web")
        for dp in env.dataplanes:
            wait_until(lambda: grpc_call(dp.http_port, "grpc.test")["code"] == 0, 15, what=f"gRPC via {dp.name}")
            r = grpc_call(dp.http_port, "grpc.test", repeat=40, parallel=4)
            self.assertEqual(r["codes"], {"0": 40}, r)
            self.assertEqual(set(r["instances"]), {"grpc-0", "grpc-1"}, r)
            # Status, message and trailing metadata travel in HTTP/2 trailers.
            r = grpc_call(dp.http_port, "grpc.test", method="server-stream", count=5, fail_code=7)
            self.assertEqual((r["code"], r["message"], len(r["replies"])), (7, "failing on purpose", 5), r)
            self.assertEqual(r["trailing"]["x-detail"], "failing-on-purpose")
            # An HTTP/2 client (h2c prior knowledge) to a plain HTTP/1 backend.
            out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-w", "\n%{http_version}",
                                  "-H", "Host: web.test", f"http://127.0.0.1:{dp.http_port}/h2"],
                                 capture_output=True, text=True, timeout=30)
            body, _, version = out.stdout.rpartition("\n")
            self.assertEqual(version, "2", out.stderr)
            self.assertEqual(json.loads(body)["instance"], "web-0")

    def test_15_websocket(self):
        env = self.world()
        env.backend_service("ws", 1)
        env.apply(ingress("ws", rules=[("ws.test", [("/socket", "Prefix", "ws")])]))
        env.wait_served("/socket", "ws.test", "ws")
        texts = [b"hello", b"x" * 300]
        for dp in env.dataplanes:
            head, echoed = websocket_roundtrip(dp.http_port, "ws.test", "/socket/chat", texts)
            self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
            self.assertIn(b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", head)  # RFC 6455's sample accept value
            self.assertEqual(echoed, texts)
        # The connection is reusable for plain requests afterwards.
        self.assertEqual(instance(env.get("/socket", "ws.test")), "ws-0")


if __name__ == "__main__":
    unittest.main()
