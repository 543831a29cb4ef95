"""Response cache and compression end to end: the real controller in manifests mode, a
dataplane, and a counting origin (backends/origin.py). Covers coalescing of concurrent
misses, stale content within grace after the origin dies, revalidation with 304, Vary
variants, compression variants, answers from stored objects (HEAD, Range, 304), unsafe
methods and purge, and memory under a churn of distinct keys."""
import gzip
import json
import os
import subprocess
import sys
import threading
import time
import unittest
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import BUILD, DEFAULT_CLASS, ROOT, Env, KeelTestCase, request, wait_until  # noqa: E402

HOST = "cache.example.test"

INGRESS = DEFAULT_CLASS + """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cached
  namespace: default
  creationTimestamp: "2026-01-01T00:00:00Z"
  annotations:
    keel.dev/cache: "true"
    keel.dev/cache-grace: "4s"
    keel.dev/compression: "true"
spec:
  ingressClassName: keel
  rules:
    - host: cache.example.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: origin, port: {number: 80}}}}
"""


def q(**kw):
    return "&".join(f"{k}={quote(str(v), safe='')}" for k, v in kw.items())


def start_world(env, extra=(), workers=2):
    """Origin, controller and dataplane with the cached Ingress; returns (dataplane, origin process, port)."""
    p = env._spawn("origin", [sys.executable, os.path.join(ROOT, "e2e", "backends", "origin.py"), "--port", "0"],
                   stdout=subprocess.PIPE)
    origin = int(p.stdout.readline())
    env.write("services.yaml", env.service("origin", [origin]))
    env.write("ingress.yaml", INGRESS)
    env.start_controller()
    dp = env.start_dataplane(workers=workers, extra=extra)
    env.wait_ready(dp)
    # Ready means a snapshot is applied; wait for our route in it.
    wait_until(lambda: request(dp.http_port, "/__ping", HOST).status == 200, what="route")
    return dp, p, origin


class Helpers:
    def count(self, path=None):
        s = request(self.origin, "/__stats").json()
        return s if path is None else s["paths"].get(path, 0)

    def get(self, dp, path, **headers):
        return request(dp.http_port, path, HOST, headers=headers)


class SharedWorldTest(Helpers, unittest.TestCase):
    """One origin + controller + dataplane for every case that leaves it running; each
    case uses its own paths, so the cases do not see each other's objects."""

    @classmethod
    def setUpClass(cls):
        cls.world = Env("cache-shared")
        try:
            cls.dp, cls.origin_proc, cls.origin = start_world(cls.world)
        except BaseException:
            cls.world.stop_all()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.world.stop_all()

    def start_world(self):
        return self.world, self.dp

    def test_concurrent_misses_make_one_upstream_request(self):
        env, dp = self.start_world()
        path = "/coalesce?" + q(cc="max-age=60", delay="0.5")
        results = []
        lock = threading.Lock()
        start = threading.Barrier(100)

        def client():
            start.wait()
            r = self.get(dp, path)
            with lock:
                results.append(r)

        threads = [threading.Thread(target=client) for _ in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(results), 100)
        self.assertTrue(all(r.status == 200 for r in results), [r.status for r in results])
        self.assertEqual({r.body for r in results}, {results[0].body})
        self.assertEqual(self.count(path), 1)
        kinds = sorted(r.headers["x-cache"] for r in results)
        self.assertEqual(kinds.count("MISS"), 1, kinds)
        stats = env.admin(dp, "/cache/stats").json()
        self.assertGreaterEqual(stats["coalesced"], 1)

    def test_revalidation_304_gives_client_200_with_body(self):
        env, dp = self.start_world()
        path = "/reval?" + q(cc="max-age=2", etag="v1")
        first = self.get(dp, path)
        self.assertEqual((first.status, first.headers["x-cache"]), (200, "MISS"))
        time.sleep(2.3)
        before = self.count()["not_modified"]
        r = self.get(dp, path)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, first.body)  # the stored body: n=1
        self.assertEqual(self.count()["not_modified"], before + 1)
        self.assertEqual(self.count(path), 2)
        self.assertEqual(self.get(dp, path).headers["x-cache"], "HIT")  # freshened by the 304
        self.assertEqual(self.count(path), 2)
        # RFC 5861 stale-while-revalidate: stale at once, one refresh in the background.
        swr = "/swr?" + q(cc="max-age=2, stale-while-revalidate=30")
        old = self.get(dp, swr)
        time.sleep(2.3)
        r = self.get(dp, swr)
        self.assertEqual((r.headers["x-cache"], r.body), ("STALE", old.body))
        wait_until(lambda: self.count(swr) == 2, what="background refresh")
        wait_until(lambda: self.get(dp, swr).body != old.body, what="refreshed object served")
        self.assertEqual(self.count(swr), 2)

    def test_vary_keeps_variants_apart(self):
        env, dp = self.start_world()
        path = "/vary?" + q(cc="max-age=60", vary="Accept-Language")
        en = self.get(dp, path, **{"Accept-Language": "en"})
        fr = self.get(dp, path, **{"Accept-Language": "fr"})
        self.assertIn(b"Accept-Language=en", en.body)
        self.assertIn(b"Accept-Language=fr", fr.body)
        en2 = self.get(dp, path, **{"Accept-Language": "en"})
        fr2 = self.get(dp, path, **{"Accept-Language": "fr"})
        self.assertEqual((en2.headers["x-cache"], en2.body), ("HIT", en.body))
        self.assertEqual((fr2.headers["x-cache"], fr2.body), ("HIT", fr.body))
        self.assertEqual(self.count(path), 2)

    def test_compression_variants(self):
        env, dp = self.start_world()
        path = "/text?" + q(cc="max-age=60", size=5000, type="text/html")
        plain = self.get(dp, path)
        self.assertNotIn("content-encoding", plain.headers)
        self.assertIn("accept-encoding", plain.headers["vary"].lower())
        gz = self.get(dp, path, **{"Accept-Encoding": "gzip"})
        self.assertEqual(gz.headers["content-encoding"], "gzip")
        self.assertEqual(gzip.decompress(gz.body).split(b" ", 1)[1], plain.body.split(b" ", 1)[1])
        self.assertLess(len(gz.body), len(plain.body) / 3)
        br = self.get(dp, path, **{"Accept-Encoding": "gzip, br"})
        self.assertEqual(br.headers["content-encoding"], "br")
        gz2 = self.get(dp, path, **{"Accept-Encoding": "gzip"})
        self.assertEqual((gz2.headers["x-cache"], gz2.body), ("HIT", gz.body))
        self.assertEqual(self.count(path), 3)  # identity, gzip, br: one fetch each
        small = self.get(dp, "/small?" + q(cc="max-age=60", size=100), **{"Accept-Encoding": "gzip"})
        self.assertNotIn("content-encoding", small.headers)
        png = self.get(dp, "/png?" + q(size=5000, type="image/png"), **{"Accept-Encoding": "gzip"})
        self.assertNotIn("content-encoding", png.headers)

    def test_answers_from_the_stored_object(self):
        env, dp = self.start_world()
        path = "/obj?" + q(cc="max-age=60", etag="e1", size=100)
        full = self.get(dp, path)
        head = request(dp.http_port, path, HOST, method="HEAD")
        self.assertEqual((head.status, head.headers["x-cache"], head.body), (200, "HIT", b""))
        self.assertEqual(head.headers["content-length"], str(len(full.body)))
        part = self.get(dp, path, Range="bytes=10-19")
        self.assertEqual((part.status, part.body), (206, full.body[10:20]))
        self.assertEqual(part.headers["content-range"], f"bytes 10-19/{len(full.body)}")
        self.assertEqual(self.get(dp, path, Range="bytes=500-").status, 416)
        nm = self.get(dp, path, **{"If-None-Match": '"e1"'})
        self.assertEqual((nm.status, nm.body), (304, b""))
        self.assertEqual(self.count(path), 1)
        nc = self.get(dp, "/private?" + q(cc="private, max-age=60"))
        self.assertEqual(nc.headers["x-cache"], "MISS")
        self.get(dp, "/private?" + q(cc="private, max-age=60"))
        self.assertEqual(self.count("/private?" + q(cc="private, max-age=60")), 2)

    def test_unsafe_method_and_purge_invalidate(self):
        env, dp = self.start_world()
        path = "/inv?" + q(cc="max-age=60")
        self.get(dp, path)
        self.assertEqual(self.get(dp, path).headers["x-cache"], "HIT")
        post = request(dp.http_port, path, HOST, method="POST", body=b"x")
        self.assertEqual(post.headers["x-cache"], "BYPASS")
        self.assertEqual(self.get(dp, path).headers["x-cache"], "MISS")
        self.assertEqual(self.get(dp, path).headers["x-cache"], "HIT")
        url = quote(f"http://{HOST}{path}", safe="")
        self.assertEqual(request(dp.admin_port, f"/cache/purge?url={url}").status, 405)
        r = request(dp.admin_port, f"/cache/purge?url={url}", method="POST")
        self.assertEqual((r.status, r.json()["purged"]), (200, 1))
        self.assertEqual(self.get(dp, path).headers["x-cache"], "MISS")
        r = request(dp.admin_port, f"/cache/purge?host={HOST}", method="POST")
        self.assertGreaterEqual(r.json()["purged"], 1)  # and /__ping, stored with lifetime 0
        self.assertEqual(self.get(dp, path).headers["x-cache"], "MISS")

    def test_http2_streams_use_the_same_cache(self):
        env, dp = self.start_world()
        path = "/h2?" + q(cc="max-age=60", size=3000, type="application/json")
        url = f"http://127.0.0.1:{dp.http_port}{path}"

        def curl(*args):
            out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-H", f"Host: {HOST}", "-D", "-",
                                  "-o", "/dev/null", *args, url], capture_output=True, timeout=10, check=True)
            return out.stdout.decode().lower()

        first = curl()
        self.assertIn("http/2 200", first)
        self.assertIn("x-cache: miss", first)
        second = curl("-H", "Accept-Encoding: br")
        self.assertIn("content-encoding: br", second)
        third = curl("-H", "Accept-Encoding: br")
        self.assertIn("x-cache: hit", third)
        self.assertEqual(self.count(path), 2)


class OwnWorldTest(Helpers, KeelTestCase):
    """Cases that kill the origin or need other dataplane flags."""

    def start_world(self, extra=(), workers=2):
        env = self.env()
        dp, self.origin_proc, self.origin = start_world(env, extra, workers)
        return env, dp

    def test_stale_within_grace_then_error_after_origin_dies(self):
        env, dp = self.start_world()
        path = "/grace?" + q(cc="max-age=2")  # not 1: Date has whole seconds
        first = self.get(dp, path)
        self.assertEqual(first.headers["x-cache"], "MISS")
        self.assertEqual(self.get(dp, path).headers["x-cache"], "HIT")
        env.stop(self.origin_proc, timeout=5)
        time.sleep(2.5)  # stale now, origin gone: grace (4 s) applies
        r = self.get(dp, path)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["x-cache"], "STALE")
        self.assertEqual(r.body, first.body)
        time.sleep(4.7)  # past max-age + grace
        r = self.get(dp, path)
        self.assertIn(r.status, (502, 503))
        self.assertNotEqual(r.headers.get("x-cache"), "STALE")

    def test_memory_stays_within_cache_size_under_churn(self):
        cap = 2 << 20
        env, dp = self.start_world(extra=("--cache-size", str(cap), "--cache-max-object-size", str(64 << 10)),
                                   workers=1)

        def rss_kb():
            with open(f"/proc/{dp.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])

        for i in range(50):  # warm up allocator and pools
            self.get(dp, "/warm?" + q(cc="max-age=600", size=20000, i=i))
        before = rss_kb()
        for i in range(1500):  # 30 MB of distinct cacheable objects, 15x the cache
            r = self.get(dp, "/churn?" + q(cc="max-age=600", size=20000, i=i))
            self.assertEqual(r.status, 200)
        stats = env.admin(dp, "/cache/stats").json()
        self.assertLessEqual(stats["bytes"], cap)
        self.assertGreater(stats["evictions"], 1000)
        if "asan" not in os.path.basename(BUILD.rstrip("/")):  # ASan's quarantine keeps freed memory
            grown = rss_kb() - before
            self.assertLess(grown, 12 * 1024, f"RSS grew by {grown} kB")


if __name__ == "__main__":
    unittest.main()
