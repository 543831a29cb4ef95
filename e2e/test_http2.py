"""HTTP/2 (h2c) end to end: the real controller in manifests mode, a dataplane, and an
echo backend on 127.0.0.1, driven by the stock h2 clients — nghttp (prior knowledge),
curl (prior knowledge and Upgrade: h2c) and h2load — plus a graceful drain."""
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import DEFAULT_CLASS, KeelTestCase, request  # noqa: E402

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
          - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
"""
HOST = "app.example.test"


def run(argv, timeout=60):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


class Http2Test(KeelTestCase):
    def start_world(self):
        env = self.env()
        api = env.start_echo("echo-api-0")
        env.write("services.yaml", env.service("api", [api]))
        env.write("ingress.yaml", INGRESS)
        env.start_controller()
        dp = env.start_dataplane(workers=2)
        env.wait_ready(dp)
        return env, dp

    def curl(self, dp, *args):
        out = run(["curl", "-sS", "-H", f"Host: {HOST}", "-w", "\n%{http_version} %{http_code}", *args,
                   f"http://127.0.0.1:{dp.http_port}/h2/path?q=1"])
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, status = out.stdout.rpartition("\n")
        return body, status

    def test_nghttp_prior_knowledge(self):
        env, dp = self.start_world()
        url = f"http://127.0.0.1:{dp.http_port}/h2/ng"
        out = run(["nghttp", "-nv", "-H", f":authority: {HOST}", url])
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertRegex(out.stdout, r"recv \(stream_id=\d+\) :status: 200")
        self.assertIn("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):128", out.stdout)
        # Body through the proxy: the echo saw an HTTP/1.1 request with our headers.
        out = run(["nghttp", "-H", f":authority: {HOST}", url])
        self.assertEqual(out.returncode, 0, out.stderr)
        seen = json.loads(out.stdout)
        self.assertEqual(seen["instance"], "echo-api-0")
        self.assertEqual(seen["path"], "/h2/ng")
        self.assertEqual(seen["headers"]["x-forwarded-proto"], "http")
        self.assertEqual(seen["headers"]["host"], HOST)

    def test_curl_prior_knowledge_and_upgrade(self):
        env, dp = self.start_world()
        body, status = self.curl(dp, "--http2-prior-knowledge")
        self.assertEqual(status, "2 200")
        self.assertEqual(json.loads(body)["path"], "/h2/path?q=1")
        body, status = self.curl(dp, "--http2")  # Upgrade: h2c, then stream 1
        self.assertEqual(status, "2 200")
        seen = json.loads(body)
        self.assertNotIn("upgrade", seen["headers"])
        self.assertNotIn("http2-settings", seen["headers"])
        # With a body the upgrade is declined: the request is served as HTTP/1.1.
        body, status = self.curl(dp, "--http2", "--data-binary", "x" * 1000)
        self.assertEqual(status, "1.1 200")
        self.assertEqual(json.loads(body)["body_bytes"], 1000)
        # Plain HTTP/1.1 on the same listener is untouched.
        self.assertEqual(request(dp.http_port, "/h2/plain", HOST).status, 200)

    def test_h2load_has_no_errors(self):
        env, dp = self.start_world()
        out = run(["h2load", "-n", "2000", "-c", "4", "-m", "16", "-H", f":authority: {HOST}",
                   f"http://127.0.0.1:{dp.http_port}/h2/load"], timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                      r"(\d+) errored, (\d+) timeout", out.stdout)
        self.assertIsNotNone(m, out.stdout)
        total, _, done, ok, failed, errored, timeouts = map(int, m.groups())
        self.assertEqual((total, done, ok, failed, errored, timeouts), (2000, 2000, 2000, 0, 0, 0), out.stdout)
        self.assertIn("status codes: 2000 2xx", out.stdout)
        self.assertRegex(out.stdout, r"Application protocol: h2c")

    def test_drain_finishes_streams_in_flight(self):
        env, dp = self.start_world()
        slow = subprocess.Popen(["curl", "-sS", "--http2-prior-knowledge", "-H", f"Host: {HOST}",
                                 "-H", "X-Echo-Delay-Ms: 1500", "-w", "\n%{http_version} %{http_code}",
                                 f"http://127.0.0.1:{dp.http_port}/h2/slow"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)  # the request is at the backend
        dp.send_signal(signal.SIGTERM)
        out, err = slow.communicate(timeout=20)
        self.assertEqual(slow.returncode, 0, err)
        self.assertTrue(out.endswith("\n2 200"), out)
        dp.wait(timeout=20)  # drained and gone (the exit code is LeakSanitizer's under ASan)
        self.assertIn("stopped", env.log(dp.name))


if __name__ == "__main__":
    unittest.main()
