"""Issue 9 scenario 13 in Kubernetes mode: the response cache through kubectl-applied
objects. A MISS then a HIT (the origin counts what reaches it), then the backend goes
down in two Kubernetes shapes while both dataplanes keep stale content within the
route's grace and answer an error after it:
  (a) the pod's process dies but its EndpointSlice still lists it (connect refused);
  (b) the pod is gone: its EndpointSlice is deleted with kubectl, zero endpoints.
Dataplane 0 is asked over HTTP/1.1, dataplane 1 over h2c (curl, prior knowledge)."""
import os
import subprocess
import sys
import time
import unittest
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import ROOT, Response  # noqa: E402
from k8s import K8sTestCase, ingress, request, wait_until  # noqa: E402

GRACE_S = 6
CACHE = {"keel.dev/cache": "true", "keel.dev/cache-grace": f"{GRACE_S}s"}
# max-age 2, not 1: Date has whole seconds, so an object may look up to 1 s older.
STALE_SOON = "/page?cc=" + quote("max-age=2", safe="")
FRESH_LONG = "/fresh?cc=" + quote("max-age=600", safe="")
UNCACHED = "/probe?cc=no-store"


def h2c(port, path, host):
    """GET over h2c with prior knowledge; curl is the client users would run."""
    out = subprocess.run(["curl", "-sS", "-i", "--http2-prior-knowledge", "--max-time", "5", "-H", f"Host: {host}",
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, timeout=10, check=True).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith("HTTP/2 "), lines[0]
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return Response(int(lines[0].split()[1]), headers, body)


class K8sCacheTest(K8sTestCase):
    def origin(self, env, name):
        p = env._spawn(name, [sys.executable, os.path.join(ROOT, "e2e", "backends", "origin.py"), "--port", "0"],
                       stdout=subprocess.PIPE)
        return p, int(p.stdout.readline())

    def get(self, env, dp, path, host):
        """Dataplane 0 over HTTP/1.1, dataplane 1 over h2c."""
        return request(env.dataplanes[0].http_port, path, host) if dp == 0 else h2c(env.dataplanes[1].http_port,
                                                                                    path, host)

    def assert_from_cache(self, r, xcache, body, what):
        self.assertEqual((r.status, r.headers.get("x-cache")), (200, xcache), f"{what}: {r.body[:120]!r}")
        self.assertEqual(r.body, body, what)
        self.assertGreaterEqual(int(r.headers["age"]), 0, what)

    def test_13_cache_hit_miss_stale(self):
        env = self.world()
        killed, killed_port = self.origin(env, "origin-killed")
        gone, gone_port = self.origin(env, "origin-gone")
        env.apply(env.service("killed", [killed_port]))
        env.apply(env.service("gone", [gone_port]))
        env.apply(ingress("cached", annotations=CACHE, rules=[("killed.test", [("/", "Prefix", "killed")]),
                                                               ("gone.test", [("/", "Prefix", "gone")])]))
        env.wait_served(UNCACHED, "killed.test")
        env.wait_served(UNCACHED, "gone.test")

        def hits(port, path):
            return request(port, "/__stats").json()["paths"].get(path, 0)

        # MISS, then HIT with the origin's count unchanged, on each dataplane and protocol.
        stored, filled = {}, []
        for host, port in (("killed.test", killed_port), ("gone.test", gone_port)):
            for dp in (0, 1):
                for path in (STALE_SOON, FRESH_LONG):
                    before = hits(port, path)
                    miss = self.get(env, dp, path, host)
                    filled.append(time.monotonic())
                    self.assertEqual((miss.status, miss.headers.get("x-cache")), (200, "MISS"), miss.body[:120])
                    self.assertNotIn("age", miss.headers)
                    self.assertEqual(hits(port, path), before + 1)
                    self.assert_from_cache(self.get(env, dp, path, host), "HIT", miss.body, f"{host} dp{dp} hit")
                    self.assertEqual(hits(port, path), before + 1, "a HIT reached the origin")
                    stored[host, dp, path] = miss.body
        self.assertEqual(hits(killed_port, STALE_SOON), 2)  # one fill per dataplane: their caches are their own

        # (a) the process dies, its EndpointSlice stays; (b) the pod is gone: no endpoint.
        env.stop(killed, sig=9)
        env.kubectl("delete", "endpointslice", "gone-0")
        wait_until(lambda: all(self.get(env, dp, UNCACHED, "gone.test").status == 503 for dp in (0, 1)), 15,
                   what="zero endpoints for gone.test on both dataplanes")
        gone_count = request(gone_port, "/__stats").json()["total"]
        for dp in (0, 1):
            # Fresh objects still answer without any endpoint.
            self.assert_from_cache(self.get(env, dp, FRESH_LONG, "gone.test"), "HIT",
                                   stored["gone.test", dp, FRESH_LONG], f"no endpoint, fresh, dp{dp}")

        # Past max-age, within grace: stale content on both dataplanes, for both shapes.
        time.sleep(max(0.0, max(filled) + 2.5 - time.monotonic()))
        stale = {}
        for host in ("killed.test", "gone.test"):
            for dp in (0, 1):
                r = self.get(env, dp, STALE_SOON, host)
                self.assert_from_cache(r, "STALE", stored[host, dp, STALE_SOON], f"{host} dp{dp} within grace")
                self.assertGreaterEqual(int(r.headers["age"]), 2)
                stale[host, dp] = r
        self.assertLess(time.monotonic() - min(filled), GRACE_S + 2 - 1, "too slow to test within grace")
        # The no-endpoint path answers with the same fields as the refused-connection one.
        for dp in (0, 1):
            self.assertEqual(sorted(stale["killed.test", dp].headers), sorted(stale["gone.test", dp].headers))
        self.assertEqual(request(gone_port, "/__stats").json()["total"], gone_count,
                         "a request reached the removed pod")

        # Past max-age + grace: the errors a client would get without the cache.
        time.sleep(max(0.0, max(filled) + 2 + GRACE_S + 1.5 - time.monotonic()))
        for dp in (0, 1):
            r = self.get(env, dp, STALE_SOON, "killed.test")
            self.assertIn(r.status, (502, 503), f"dp{dp} refused connection after grace")
            self.assertNotIn("x-cache", r.headers)
            r = self.get(env, dp, STALE_SOON, "gone.test")
            self.assertEqual((r.status, r.body), (503, b"no endpoint available\n"), f"dp{dp} no endpoint after grace")
            self.assertNotIn("x-cache", r.headers)


if __name__ == "__main__":
    unittest.main()
