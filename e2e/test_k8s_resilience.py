"""Issue 9 scenarios 8-11 in Kubernetes mode: propagation time, endpoint removal under
load, the controller killed and restarted, the API server restarted. Real kubectl,
fake API server, controller with a kubeconfig, two dataplanes."""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from k8s import K8sTestCase, ingress, instance, request, wait_until  # noqa: E402


class Load:
    """Concurrent clients against every dataplane; counts successes and failures."""

    def __init__(self, env, host, path="/", clients=8):
        self.env, self.host, self.path = env, host, path
        self.ok, self.failures = 0, []
        self.lock, self.stop_flag = threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(clients)]

    def run(self, i):
        dp = self.env.dataplanes[i % len(self.env.dataplanes)]
        while not self.stop_flag.is_set():
            try:
                r = request(dp.http_port, self.path, self.host, timeout=10)
                with self.lock:
                    if r.status == 200:
                        self.ok += 1
                    else:
                        self.failures.append((dp.name, r.status, r.body[:120]))
            except Exception as e:  # a failed request is a finding
                with self.lock:
                    self.failures.append((dp.name, repr(e)))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join()
        return False


class K8sResilienceTest(K8sTestCase):
    def test_08_propagation_time(self):
        env = self.world()
        env.backend_service("web", 1)
        started = time.monotonic()
        env.apply(ingress("fresh", rules=[("fresh.test", [("/", "Prefix", "web")])]))
        applied = time.monotonic()
        first = {}
        deadline = started + 15
        while len(first) < 2 and time.monotonic() < deadline:
            for i, dp in enumerate(env.dataplanes):
                if i not in first and request(dp.http_port, "/", "fresh.test", timeout=2).status == 200:
                    first[i] = time.monotonic()
            time.sleep(0.005)
        self.assertEqual(len(first), 2, "the new Ingress never reached both dataplanes")
        total = max(first.values()) - started
        print(f"\npropagation: kubectl apply took {1000 * (applied - started):.0f} ms; "
              f"apply start -> first 200 on dataplane-0 {1000 * (first[0] - started):.0f} ms, "
              f"dataplane-1 {1000 * (first[1] - started):.0f} ms; "
              f"apply return -> both serving {1000 * (max(first.values()) - applied):.0f} ms", flush=True)
        self.assertLess(total, 10.0)

    def test_09_endpoint_removal_under_load(self):
        env = self.world()
        ports = env.backend_service("api", 3)
        env.apply(ingress("api", rules=[("api.test", [("/", "Prefix", "api")])]))
        env.wait_served("/", "api.test", "api")
        with Load(env, "api.test") as load:
            time.sleep(0.5)
            # kubectl edit of the EndpointSlice: the pod starts terminating (ready false).
            env.kubectl("patch", "endpointslice", "api-2", "--type=json", "-p",
                        '[{"op": "replace", "path": "/endpoints/0/conditions", '
                        '"value": {"ready": false, "serving": true, "terminating": true}}]')
            time.sleep(0.5)
            env.kubectl("delete", "endpointslice", "api-2")  # the endpoint controller drops it
            gone = str(ports[2])
            wait_until(lambda: all(gone not in env.admin(dp, "/config_dump").body.decode()
                                   for dp in env.dataplanes), 15, what="endpoint removal on both dataplanes")
            time.sleep(0.3)  # requests already on their way to it finish
            env.stop(env.backends["api-2"][0])  # the pod is gone
            time.sleep(1.0)
        self.assertGreater(load.ok, 50)
        self.assertEqual(load.failures, [], f"{len(load.failures)} failed of {load.ok + len(load.failures)}")
        for dp in range(2):
            self.assertIn(instance(env.get("/", "api.test", dp=dp)), ("api-0", "api-1"))

    def test_10_controller_killed_and_restarted(self):
        env = self.world()
        env.backend_service("web", 1)
        env.apply(ingress("before", rules=[("before.test", [("/", "Prefix", "web")])]))
        env.wait_served("/", "before.test", "web")
        env.stop(env.controller, sig=9)  # a crash, not a graceful stop
        with Load(env, "before.test", clients=4) as load:
            time.sleep(1.0)
            # A change while no controller runs is picked up after the restart.
            env.apply(ingress("during", rules=[("during.test", [("/", "Prefix", "web")])]))
            time.sleep(0.5)
        self.assertEqual(load.failures, [])
        self.assertGreater(load.ok, 20)
        for dp in range(2):
            self.assertEqual(env.get("/", "during.test", dp=dp).status, 404)
        env.start_controller_k8s(config_port=env.config_port)
        env.wait_served("/", "during.test", "web", timeout=20)  # both dataplanes resynced
        for dp in range(2):
            self.assertEqual(instance(env.get("/", "before.test", dp=dp)), "web-0")

    def test_11_api_server_restarted(self):
        env = self.world()
        env.backend_service("web", 1)
        env.apply(ingress("first", rules=[("first.test", [("/", "Prefix", "web")])]))
        env.wait_served("/", "first.test", "web")
        env.restart_api()  # same port, same stored objects (--state-file)
        env.apply(ingress("second", rules=[("second.test", [("/", "Prefix", "web")])]))
        env.wait_served("/", "second.test", "web", timeout=20)
        for dp in range(2):
            self.assertEqual(instance(env.get("/", "first.test", dp=dp)), "web-0")
        # And the watches keep working after the resume: a deletion arrives too.
        env.kubectl("delete", "ingress", "first")
        wait_until(lambda: all(env.get("/", "first.test", dp=dp).status == 404 for dp in range(2)), 15,
                   what="deletion after the API restart reaching both dataplanes")
        self.assertIn("watch", env.log("controller").lower())


if __name__ == "__main__":
    unittest.main()
