"""Endpoint deltas end to end: the controller (manifests mode) sends an EndpointSlice
change as an EndpointDelta, and the dataplane applies it on the delta path (only the
changed cluster is rebuilt; routes and the other clusters are shared), visible in its
debug log, while traffic follows the new endpoints."""
import os
import sys
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
    - host: a.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
    - host: b.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: other, port: {number: 80}}}}
"""


class DeltaTest(KeelTestCase):
    def test_endpoint_change_applies_as_delta(self):
        env = self.env()
        web = [env.start_echo(f"echo-web-{i}") for i in range(2)]
        other = env.start_echo("echo-other")
        env.write("services.yaml", env.service("web", web) + "---" + env.service("other", [other]))
        env.write("ingress.yaml", INGRESS)
        env.start_controller()
        dp = env.start_dataplane(workers=2, extra=("--log-level", "debug"))
        env.wait_ready(dp)
        seen = {request(dp.http_port, "/", "a.test").json()["instance"] for _ in range(10)}
        self.assertEqual(seen, {"echo-web-0", "echo-web-1"})

        full = env.log("dataplane").count("[dataplane] applied snapshot")
        # echo-web-0 leaves: only the web cluster's endpoints change.
        env.write("services.yaml", env.service("web", web, ready=[False, True]) + "---" +
                  env.service("other", [other]))
        wait_until(lambda: "applied endpoint delta" in env.log("dataplane"), what="delta applied")
        got = [request(dp.http_port, "/", "a.test").json()["instance"] for _ in range(10)]
        self.assertEqual(set(got), {"echo-web-1"})
        self.assertEqual(request(dp.http_port, "/", "b.test").json()["instance"], "echo-other")
        log = env.log("dataplane")
        self.assertEqual(log.count("[dataplane] applied snapshot"), full, log)  # no full rebuild


if __name__ == "__main__":
    unittest.main()
