"""Dataplane end to end: the real controller in manifests mode, a dataplane, and echo
backends on 127.0.0.1. Covers routing by Ingress rules, balancing, endpoint removal
under load, slow clients, and life before the first snapshot."""
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import DEFAULT_CLASS, KeelTestCase, request, wait_until  # noqa: E402

INGRESS = DEFAULT_CLASS + """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  ingressClassName: keel
  rules:
    - host: app.example.test
      http:
        paths:
          - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
          - {path: /exact, pathType: Exact, backend: {service: {name: web, port: {name: http}}}}
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
    - host: "*.wild.test"
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
"""


def instance(r):
    return r.json()["instance"]


class ProxyTest(KeelTestCase):
    def start_world(self, api_backends=1, web_backends=1, workers=2):
        env = self.env()
        api = [env.start_echo(f"echo-api-{i}") for i in range(api_backends)]
        web = [env.start_echo(f"echo-web-{i}") for i in range(web_backends)]
        env.write("services.yaml", env.service("api", api) + "---" + env.service("web", web))
        env.write("ingress.yaml", INGRESS)
        env.start_controller()
        dp = env.start_dataplane(workers=workers)
        env.wait_ready(dp)
        return env, dp, api, web

    def test_routes_by_host_and_path(self):
        env, dp, _, _ = self.start_world()
        port = dp.http_port
        self.assertEqual(instance(request(port, "/api/users", "app.example.test")), "echo-api-0")
        self.assertEqual(instance(request(port, "/api", "app.example.test")), "echo-api-0")
        # Element-wise prefix: /apix is not under /api.
        self.assertEqual(instance(request(port, "/apix", "app.example.test")), "echo-web-0")
        self.assertEqual(instance(request(port, "/exact", "app.example.test")), "echo-web-0")
        self.assertEqual(instance(request(port, "/", "APP.example.test:80")), "echo-web-0")
        self.assertEqual(instance(request(port, "/x", "a.wild.test")), "echo-web-0")
        self.assertEqual(request(port, "/x", "a.b.wild.test").status, 404)
        self.assertEqual(request(port, "/x", "wild.test").status, 404)
        self.assertEqual(request(port, "/", "unknown.test").status, 404)

    def test_forwarded_headers_and_request_id(self):
        env, dp, _, _ = self.start_world()
        r = request(dp.http_port, "/api/h?q=1", "app.example.test",
                    headers={"X-Forwarded-For": "6.6.6.6", "Connection": "keep-alive, X-Secret", "X-Secret": "s"})
        seen = r.json()
        self.assertEqual(seen["path"], "/api/h?q=1")
        h = seen["headers"]
        self.assertEqual(h["x-forwarded-for"], "127.0.0.1")  # client's value not trusted by default
        self.assertEqual(h["x-forwarded-proto"], "http")
        self.assertEqual(h["x-forwarded-host"], "app.example.test")
        self.assertEqual(h["x-forwarded-port"], str(dp.http_port))
        self.assertNotIn("x-secret", h)  # named in Connection: hop-by-hop
        self.assertEqual(len(h["x-request-id"]), 32)
        kept = request(dp.http_port, "/api", "app.example.test", headers={"X-Request-ID": "abc-123"}).json()
        self.assertEqual(kept["headers"]["x-request-id"], "abc-123")

    def test_bodies_chunked_both_ways(self):
        env, dp, _, _ = self.start_world()
        r = request(dp.http_port, "/api/post", "app.example.test", method="POST", body=b"x" * 100000)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["body_bytes"], 100000)
        r = request(dp.http_port, "/api/c", "app.example.test", headers={"X-Echo-Chunked": "1"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers.get("transfer-encoding"), "chunked")
        self.assertEqual(r.json()["instance"], "echo-api-0")

        def chunks():
            for _ in range(10):
                yield b"y" * 1000
        r = request(dp.http_port, "/api/post", "app.example.test", method="POST", body=chunks(),
                    headers={"Transfer-Encoding": "chunked"})
        self.assertEqual(r.json()["body_bytes"], 10000)

    def test_balancing_reaches_every_endpoint(self):
        env, dp, api, _ = self.start_world(api_backends=3)
        seen = {instance(request(dp.http_port, "/api", "app.example.test")) for _ in range(60)}
        self.assertEqual(seen, {"echo-api-0", "echo-api-1", "echo-api-2"})

    def test_endpoint_removal_under_load_loses_nothing(self):
        env, dp, api, web = self.start_world(api_backends=3)
        failures, ok = [], [0]
        stop = threading.Event()
        lock = threading.Lock()

        def client():
            while not stop.is_set():
                try:
                    r = request(dp.http_port, "/api", "app.example.test", timeout=10)
                    with lock:
                        if r.status == 200:
                            ok[0] += 1
                        else:
                            failures.append(r.status)
                except Exception as e:  # a failed request is a finding, not a crash
                    with lock:
                        failures.append(repr(e))

        threads = [threading.Thread(target=client) for _ in range(32)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            # Remove echo-api-2 from the Service, wait until the dataplane has it, then kill it.
            env.write("services.yaml", env.service("api", api[:2]) + "---" + env.service("web", web))
            wait_until(lambda: str(api[2]) not in env.admin(dp, "/config_dump").body.decode(), 10,
                       what="endpoint removal reaching the dataplane")
            time.sleep(0.5)
            env.stop(env.backends["echo-api-2"][0])
            time.sleep(1.5)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertGreater(ok[0], 100)
        self.assertEqual(failures, [], f"{len(failures)} failed of {ok[0] + len(failures)}")

    def test_slow_clients_are_cut_at_header_timeout(self):
        env = self.env()
        port = env.start_echo("echo-web-0")
        env.write("services.yaml", env.service("web", [port]) + "---" + env.service("api", [port]))
        env.write("ingress.yaml", INGRESS)
        env.start_controller()
        dp = env.start_dataplane(workers=1, extra=["--header-timeout-ms", "1500"])
        env.wait_ready(dp)
        slow = []
        for _ in range(200):
            s = socket.create_connection(("127.0.0.1", dp.http_port))
            s.sendall(b"GET / HTTP/1.1\r\n")
            slow.append(s)
        started = time.time()
        answered = 0
        while time.time() - started < 1.2:
            for s in slow[:50]:
                try:
                    s.sendall(b"X")  # trickle, a byte at a time
                except OSError:
                    pass
            r = request(dp.http_port, "/", "app.example.test", timeout=2)
            self.assertEqual(r.status, 200)
            answered += 1
        self.assertGreater(answered, 5)
        time.sleep(1.0)
        # Every slow connection was answered 408 or closed by now.
        for s in slow:
            s.settimeout(2)
            data = b""
            try:
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            self.assertTrue(data == b"" or data.startswith(b"HTTP/1.1 408"), data[:80])
            s.close()

    def test_503_before_first_snapshot_and_keeps_serving_without_controller(self):
        env = self.env()
        port = env.start_echo("echo-web-0")
        env.write("services.yaml", env.service("web", [port]) + "---" + env.service("api", [port]))
        env.write("ingress.yaml", INGRESS)
        env.config_port = __import__("harness").free_port()
        dp = env.start_dataplane()
        wait_until(lambda: request(dp.http_port, "/", "app.example.test", timeout=1).status == 503, 10,
                   what="dataplane answering")
        r = request(dp.http_port, "/", "app.example.test")
        self.assertEqual(r.status, 503)
        self.assertIn("retry-after", r.headers)
        self.assertEqual(request(dp.admin_port, "/readyz").status, 503)
        ctl = env.start_controller_on(env.config_port)
        env.wait_ready(dp)
        self.assertEqual(request(dp.http_port, "/", "app.example.test").status, 200)
        env.stop(ctl)
        time.sleep(0.5)
        for _ in range(10):
            self.assertEqual(request(dp.http_port, "/", "app.example.test").status, 200)

    def test_websocket_is_tunnelled(self):
        env, dp, _, _ = self.start_world()
        s = socket.create_connection(("127.0.0.1", dp.http_port))
        s.settimeout(5)
        s.sendall(b"GET /api/ws HTTP/1.1\r\nHost: app.example.test\r\nConnection: Upgrade\r\n"
                  b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        self.assertIn(b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", head)  # RFC 6455's sample accept value
        for text in (b"hello", b"x" * 300):
            mask = b"\x01\x02\x03\x04"
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(text))
            length = bytes([0x80 | len(text)]) if len(text) < 126 else bytes([0x80 | 126]) + len(text).to_bytes(2, "big")
            s.sendall(b"\x81" + length + mask + masked)
            frame = b""
            want = 2 + (0 if len(text) < 126 else 2) + len(text)
            while len(frame) < want:
                frame += s.recv(4096)
            self.assertEqual(frame[0], 0x81)
            self.assertEqual(frame[-len(text):], text)
        s.close()
        self.assertEqual(request(dp.http_port, "/api", "app.example.test").status, 200)

    def test_malformed_requests_get_400_and_close(self):
        env, dp, _, _ = self.start_world()
        for raw in [b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"]:
            s = socket.create_connection(("127.0.0.1", dp.http_port))
            s.sendall(raw)
            s.settimeout(5)
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            s.close()
            self.assertTrue(data.startswith(b"HTTP/1.1 400"), (raw, data[:100]))
        # The proxy still serves.
        self.assertEqual(request(dp.http_port, "/api", "app.example.test").status, 200)


if __name__ == "__main__":
    unittest.main()
