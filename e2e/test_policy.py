"""Route policies end to end: the real controller (manifests mode) translates
ingress-nginx annotations, the dataplane enforces them. CORS preflights answered at the
proxy and CORS headers on responses (HTTP/1.1 and h2c), limit-rps (429 + Retry-After),
limit-connections (in-flight requests per client), proxy-body-size on chunked bodies.
(HTTP/2 upstreams, backend-protocol GRPC/H2C/GRPCS: test_h2_upstream.py.)"""
import os
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import DEFAULT_CLASS, KeelTestCase, request  # noqa: E402

A = "nginx.ingress.kubernetes.io"


def ingress(name, host, annotations):
    ann = "\n".join(f'    {A}/{k}: "{v}"' for k, v in annotations.items())
    return f"""
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: default
  creationTimestamp: "2026-01-01T00:00:00Z"
  annotations:
{ann}
spec:
  ingressClassName: keel
  rules:
    - host: {host}
      http:
        paths:
          - {{path: /, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}
"""


WORLD = DEFAULT_CLASS + "---".join([
    ingress("cors", "cors.test", {"enable-cors": "true", "cors-allow-origin": "https://app.example, https://*.corp.test",
                                  "cors-allow-methods": "GET, PUT", "cors-expose-headers": "X-Instance",
                                  "cors-max-age": "600", "limit-rps": "1", "limit-burst-multiplier": "1"}),
    ingress("rps", "rps.test", {"limit-rps": "2", "limit-burst-multiplier": "1"}),
    ingress("conns", "conns.test", {"limit-connections": "2"}),
    ingress("small", "small.test", {"proxy-body-size": "1k"}),
])


class PolicyTest(KeelTestCase):
    def start_world(self):
        env = self.env()
        web = env.start_echo("echo-web")
        env.write("services.yaml", env.service("web", [web]))
        env.write("ingress.yaml", WORLD)
        env.start_controller()
        # One worker: per-worker limits are the configured ones (see dataplane/policy/limits.h).
        dp = env.start_dataplane(workers=1)
        env.wait_ready(dp)
        return env, dp

    def test_cors_preflight_and_response_headers(self):
        env, dp = self.start_world()
        pre = {"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"}
        for _ in range(3):  # answered by the proxy: neither the backend nor the rate limit sees them
            r = request(dp.http_port, "/x", "cors.test", method="OPTIONS", headers=pre)
            self.assertEqual(r.status, 204)
            self.assertEqual(r.headers["access-control-allow-origin"], "https://app.example")
            self.assertEqual(r.headers["access-control-allow-methods"], "GET, PUT")
            self.assertEqual(r.headers["access-control-max-age"], "600")
            self.assertIn("authorization", r.headers["access-control-allow-headers"].lower())
            self.assertNotIn("x-instance", r.headers)
        r = request(dp.http_port, "/x", "cors.test", headers={"Origin": "https://a.corp.test"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["x-instance"], "echo-web")
        self.assertEqual(r.headers["access-control-allow-origin"], "https://a.corp.test")
        self.assertEqual(r.headers["access-control-expose-headers"], "X-Instance")
        # A preflight from another origin is not ours to answer: it reaches the backend
        # (rps 1, burst 1: the second token of the bucket), without CORS headers.
        r = request(dp.http_port, "/x", "cors.test", method="OPTIONS",
                    headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "PUT"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["method"], "OPTIONS")
        self.assertNotIn("access-control-allow-origin", r.headers)
        # The bucket is empty now: 429, and the browser may read it (CORS headers on it).
        r = request(dp.http_port, "/x", "cors.test", headers={"Origin": "https://app.example"})
        self.assertEqual(r.status, 429)
        self.assertEqual(r.headers["access-control-allow-origin"], "https://app.example")
        # Same over h2c.
        out = subprocess.run(["curl", "-sS", "-i", "--http2-prior-knowledge", "-X", "OPTIONS", "-H", "Host: cors.test",
                              "-H", "Origin: https://app.example", "-H", "Access-Control-Request-Method: GET",
                              f"http://127.0.0.1:{dp.http_port}/x"], capture_output=True, text=True, timeout=30)
        self.assertIn("HTTP/2 204", out.stdout, out.stderr)
        self.assertIn("access-control-allow-origin: https://app.example", out.stdout)

    def test_rate_limit_answers_429_with_retry_after(self):
        env, dp = self.start_world()
        # limit-rps 2 × multiplier 1: burst 2, so 3 at once, then one more per 500 ms.
        t0 = time.monotonic()
        statuses = [request(dp.http_port, "/", "rps.test") for _ in range(8)]
        elapsed = time.monotonic() - t0
        codes = [r.status for r in statuses]
        self.assertEqual(codes[:3], [200, 200, 200])
        self.assertEqual(set(codes), {200, 429})
        self.assertLessEqual(codes.count(200), 3 + int(elapsed * 2) + 1, (codes, elapsed))
        for r in statuses:
            if r.status == 429:
                self.assertEqual(r.headers["retry-after"], "1")
        # Other hosts (other Ingresses) are not limited.
        self.assertEqual([request(dp.http_port, "/", "conns.test").status for _ in range(8)], [200] * 8)

    def test_in_flight_requests_per_client(self):
        env, dp = self.start_world()
        # Two slow requests (the backend sleeps 2 s) hold both slots of limit-connections 2.
        slow = []
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", dp.http_port), timeout=10)
            s.sendall(b"GET / HTTP/1.1\r\nHost: conns.test\r\nX-Echo-Delay-Ms: 2000\r\nConnection: close\r\n\r\n")
            slow.append(s)
        time.sleep(0.2)  # let the dataplane read them before anything else
        deadline = time.time() + 5
        r = None
        while time.time() < deadline:
            r = request(dp.http_port, "/", "conns.test")
            if r.status == 429:
                break
            time.sleep(0.05)
        self.assertEqual(r.status, 429)
        self.assertEqual(r.headers["retry-after"], "1")
        for s in slow:
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            s.close()
            self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])
        # The slots were given back with the responses.
        self.assertEqual(request(dp.http_port, "/", "conns.test").status, 200)

    def test_body_limit_also_for_chunked_bodies(self):
        env, dp = self.start_world()
        ok = request(dp.http_port, "/", "small.test", method="POST", body=iter([b"a" * 600, b"b" * 400]),
                     headers={"Transfer-Encoding": "chunked"})
        self.assertEqual(ok.status, 200)
        self.assertEqual(ok.json()["body_bytes"], 1000)
        big = request(dp.http_port, "/", "small.test", method="POST", body=iter([b"a" * 600, b"b" * 600]),
                      headers={"Transfer-Encoding": "chunked"})
        self.assertEqual(big.status, 413)
        self.assertEqual(request(dp.http_port, "/", "small.test", method="POST", body=b"x" * 1025).status, 413)
        # Over h2c, with no content-length: counted as DATA arrives.
        out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--http2-prior-knowledge",
                              "-H", "Host: small.test", "-H", "Content-Length:", "--data-binary", "@-",
                              f"http://127.0.0.1:{dp.http_port}/"], input="z" * 5000, capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.stdout, "413", out.stderr)


if __name__ == "__main__":
    unittest.main()
