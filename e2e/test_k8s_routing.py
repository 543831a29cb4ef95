"""Issue 9 scenarios 1-6 and 12 in Kubernetes mode: manifests applied with the real
kubectl to the fake API server, the controller watching it with a kubeconfig, two
dataplanes, echo backends. Each test is one scenario with its own world."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from k8s import PUBLISH, K8sTestCase, ingress, instance, time, wait_until  # noqa: E402
from harness import BUILD, free_port, request  # noqa: E402

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")


class K8sRoutingTest(K8sTestCase):
    def test_01_default_backend_only(self):
        env = self.world()
        env.backend_service("catchall", 1)
        env.apply(ingress("default-only", default_backend="catchall"))
        env.wait_served("/", "anything.test", "catchall")
        for dp in range(2):
            for method in METHODS:
                for path in ("/", "/a/b/c?x=1", "/static/app.js"):
                    for host in ("anything.test", "other.example", "10.0.0.1"):
                        r = env.get(path, host, dp=dp, method=method, body=b"x" if method == "POST" else None)
                        self.assertEqual(r.status, 200, f"{method} {host}{path} on dataplane {dp}")
                        seen = r.json()
                        self.assertEqual(seen["instance"], "catchall-0")
                        self.assertEqual(seen["method"], method)
                        self.assertEqual(seen["path"], path)

    def test_02_host_rules(self):
        env = self.world()
        env.backend_service("exact", 1)
        env.backend_service("wild", 1)
        env.apply(ingress("hosts", rules=[("foo.com", [("/", "Prefix", "exact")]),
                                          ("*.foo.com", [("/", "Prefix", "wild")])]))
        env.wait_served("/", "foo.com", "exact")
        for dp in range(2):
            self.assertEqual(instance(env.get("/x", "foo.com", dp=dp)), "exact-0")
            self.assertEqual(instance(env.get("/x", "FOO.com:80", dp=dp)), "exact-0")
            self.assertEqual(instance(env.get("/x", "bar.foo.com", dp=dp)), "wild-0")
            # A wildcard covers exactly one label, and not the bare domain.
            self.assertEqual(env.get("/x", "baz.bar.foo.com", dp=dp).status, 404)
            self.assertEqual(env.get("/x", "unknown.example", dp=dp).status, 404)

    def test_03_path_rules(self):
        env = self.world()
        for name in ("exact", "aaa", "deep", "trail", "root"):
            env.backend_service(name, 1)
        env.apply(ingress("paths", rules=[("paths.test", [
            ("/exact", "Exact", "exact"),
            ("/exact", "Prefix", "aaa"),  # Exact beats Prefix on the same path
            ("/aaa", "Prefix", "aaa"),
            ("/aaa/bbb", "Prefix", "deep"),  # longest prefix wins
            ("/trail/", "Prefix", "trail"),  # trailing slash ignored for matching
            ("/", "Prefix", "root"),
        ])]))
        env.wait_served("/", "paths.test", "root")
        want = {
            "/exact": "exact-0", "/exact/": "aaa-0", "/exact/x": "aaa-0",
            "/aaa": "aaa-0", "/aaa/": "aaa-0", "/aaa/ccc": "aaa-0", "/aaaccc": "root-0",
            "/aaa/bbb": "deep-0", "/aaa/bbb/c": "deep-0", "/aaa/bbbc": "aaa-0",
            "/trail": "trail-0", "/trail/": "trail-0", "/trail/x": "trail-0", "/trailx": "root-0",
            "/": "root-0", "/other": "root-0",
        }
        for dp in range(2):
            got = {path: instance(env.get(path, "paths.test", dp=dp)) for path in want}
            self.assertEqual(got, want, f"dataplane {dp}")

    def test_04_ingress_class(self):
        env = self.world()
        env.backend_service("mine", 1)
        env.backend_service("theirs", 1)
        # No class named: the default class (ours) claims it.
        env.apply(ingress("defaulted", rules=[("mine.test", [("/", "Prefix", "mine")])]))
        env.apply(ingress("foreign", rules=[("theirs.test", [("/", "Prefix", "theirs")])], cls="other"))
        env.apply(ingress("legacy-foreign", rules=[("legacy.test", [("/", "Prefix", "theirs")])],
                          annotations={"kubernetes.io/ingress.class": "other"}))
        env.wait_served("/", "mine.test", "mine")
        wait_until(lambda: self.addresses(env, "defaulted") == [PUBLISH], 10, what="status of the defaulted Ingress")
        time.sleep(0.5)  # a status write for a foreign Ingress would have happened by now
        for dp in range(2):
            self.assertEqual(env.get("/", "theirs.test", dp=dp).status, 404)
            self.assertEqual(env.get("/", "legacy.test", dp=dp).status, 404)
        self.assertEqual(self.addresses(env, "foreign"), [])
        self.assertEqual(self.addresses(env, "legacy-foreign"), [])

    def test_05_status_published(self):
        env = self.world()
        env.backend_service("web", 1)
        for name in ("one", "two"):
            env.apply(ingress(name, rules=[(f"{name}.test", [("/", "Prefix", "web")])], cls="keel"))
        for name in ("one", "two"):
            wait_until(lambda: self.addresses(env, name) == [PUBLISH], 10, what=f"status of {name}")
        # The ADDRESS column users see.
        table = env.kubectl("get", "ingress", "one")
        self.assertIn(PUBLISH, table)
        # A new owned Ingress gets it too; written once, not on every reconcile.
        env.apply(ingress("three", rules=[("three.test", [("/", "Prefix", "web")])]))
        wait_until(lambda: self.addresses(env, "three") == [PUBLISH], 10, what="status of three")
        rv = env.get_json("ingress", "one")["metadata"]["resourceVersion"]
        env.backend_service("web2", 1)  # more reconciles
        time.sleep(0.5)
        self.assertEqual(env.get_json("ingress", "one")["metadata"]["resourceVersion"], rv)
        # The replica writing status holds the Lease, and its gauge says so.
        metrics = request(env.controller_metrics_port, "/metrics", "127.0.0.1").body.decode()
        self.assertRegex(metrics, r"(?m)^keel_controller_is_leader 1$")
        # A second replica serves snapshots but follows: its gauge is 0 while the first leads.
        follower_metrics = free_port()
        env._spawn("controller-2", [os.path.join(BUILD, "controller", "keel-controller"), "--kubeconfig",
                                    env.kubeconfig, "--config-listen", f"127.0.0.1:{free_port()}",
                                    "--insecure-config-channel", "--metrics-listen",
                                    f"127.0.0.1:{follower_metrics}", "--publish-address", PUBLISH])

        def follower_gauge():
            try:
                body = request(follower_metrics, "/metrics", "127.0.0.1").body.decode()
            except OSError:
                return None
            m = re.search(r"(?m)^keel_controller_is_leader (\d)$", body)
            return m and m.group(1)
        wait_until(lambda: follower_gauge() == "0", 10, what="follower's keel_controller_is_leader 0")

    def test_06_load_balancing_over_ten_endpoints(self):
        env = self.world()
        env.backend_service("pool", 10)
        env.apply(ingress("lb", rules=[("lb.test", [("/", "Prefix", "pool")])]))
        env.wait_served("/", "lb.test", "pool")

        def all_listed():
            dump = env.admin(env.dataplanes[0], "/config_dump").body.decode()
            return all(str(port) in dump for _, port in env.backends.values())
        wait_until(all_listed, 10, what="all 10 endpoints in the dataplane's config")
        seen = {}
        for i in range(100):
            name = instance(env.get("/", "lb.test", dp=i % 2))
            seen[name] = seen.get(name, 0) + 1
        self.assertEqual(sorted(seen), sorted(f"pool-{i}" for i in range(10)), seen)

    def test_12_bad_ingress_beside_good_ones(self):
        env = self.world()
        env.backend_service("good", 1)
        env.apply(ingress("good-a", rules=[("a.test", [("/", "Prefix", "good")])]))
        env.apply(ingress("bad", rules=[("bad.test", [("/", "Prefix", "missing-service"),
                                                      ("/re(", "ImplementationSpecific", "good")])],
                          annotations={"nginx.ingress.kubernetes.io/use-regex": "true"}))
        env.apply(ingress("good-b", rules=[("b.test", [("/", "Prefix", "good")])]))
        env.wait_served("/", "a.test", "good")
        env.wait_served("/", "b.test", "good")
        for dp in range(2):
            self.assertNotEqual(env.get("/", "bad.test", dp=dp).status, 200)

        def bad_events():
            items = env.get_json("events")["items"]
            return [e for e in items if e["involvedObject"].get("name") == "bad" and e["type"] == "Warning"]
        events = wait_until(bad_events, 10, what="Warning Events on the bad Ingress")
        reasons = {e["reason"] for e in events}
        self.assertTrue(reasons, events)
        self.assertEqual(events[0]["involvedObject"]["kind"], "Ingress")
        self.assertTrue(all(e["involvedObject"]["uid"] for e in events), events)
        # Good Ingresses get no Warning.
        items = env.get_json("events")["items"]
        self.assertFalse([e for e in items if e["involvedObject"].get("name", "").startswith("good")])
        # Further reconciles do not emit the same Events again.
        count = sum(e.get("count", 1) for e in bad_events())
        env.backend_service("other", 1)
        env.apply(ingress("good-c", rules=[("c.test", [("/", "Prefix", "other")])]))
        env.wait_served("/", "c.test", "other")
        time.sleep(0.3)
        self.assertEqual(sum(e.get("count", 1) for e in bad_events()), count)

    @staticmethod
    def addresses(env, name):
        obj = env.get_json("ingress", name)
        lb = obj.get("status", {}).get("loadBalancer", {}).get("ingress", [])
        return [e.get("ip") or e.get("hostname") for e in lb]


if __name__ == "__main__":
    unittest.main()
