"""Observability end to end: a real Prometheus server (Debian package `prometheus`)
scrapes both binaries' --metrics-listen ports; after known traffic its HTTP API must
show both targets up and the request counter and duration histogram at the expected
values. `promtool check metrics` must accept both /metrics outputs, the access log
must carry one JSON line per request, and the controller's diagnostics must name a
rejected Ingress."""
import json
import re
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import DEFAULT_CLASS, KeelTestCase, free_port, request, wait_until  # noqa: E402

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

WORLD = DEFAULT_CLASS + """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  ingressClassName: keel
  rules:
    - host: shop.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: broken, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  ingressClassName: keel
  rules:
    - host: broken.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: missing, port: {number: 80}}}}
"""

OK_REQUESTS, NOT_FOUND = 17, 3
# List/watch counters exist only when the controller reads the Kubernetes API (the
# fake API server's tests), not with --manifests as here.
API_SOURCE_ONLY = {"keel_controller_watch_restarts_total", "keel_controller_relists_total"}


def get(port, path):
    r = request(port, path)
    return r.status, r.body.decode()


def promql(port, query):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=30) as resp:
        doc = json.load(resp)
    assert doc["status"] == "success", doc
    return doc["data"]["result"]


def scalar(port, query):
    result = promql(port, query)
    return float(result[0]["value"][1]) if result else None


class ObserveTest(KeelTestCase):
    def start_prometheus(self, env, targets):
        port = free_port()
        tmp = tempfile.mkdtemp(prefix="keel-prom-", dir=env.dir)
        config = os.path.join(tmp, "prometheus.yml")
        jobs = "".join(textwrap.dedent(f"""
              - job_name: {job}
                scrape_interval: 1s
                scrape_timeout: 900ms
                static_configs: [{{targets: ["127.0.0.1:{p}"]}}]
            """) for job, p in targets.items())
        with open(config, "w") as f:
            f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n" + jobs)
        # Loopback only; no web UI console libraries needed for the API.
        p = env._spawn("prometheus", [PROMETHEUS, f"--config.file={config}",
                                      f"--storage.tsdb.path={os.path.join(tmp, 'data')}",
                                      f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
        wait_until(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1).status == 200,
                   60, what="prometheus ready")
        return p, port

    def test_prometheus_scrapes_both_binaries(self):
        env = self.env()
        backend = env.start_echo("echo-web")
        env.write("services.yaml", env.service("web", [backend]))
        env.write("world.yaml", WORLD)
        ctl = env.start_controller(extra=["--metrics-compat", "nginx"])
        dp = env.start_dataplane(extra=["--metrics-compat", "nginx", "--access-log", "json"])
        env.wait_ready(dp)

        for i in range(OK_REQUESTS):
            r = request(dp.http_port, f"/item/{i}?q=secret", "shop.test", headers={"User-Agent": "e2e/1"})
            self.assertEqual(r.status, 200)
        for _ in range(NOT_FOUND):
            self.assertEqual(request(dp.http_port, "/", "nowhere.test").status, 404)

        # promtool accepts both expositions (names, types, HELP, histogram shape).
        for port in (dp.metrics_port, ctl.metrics_port):
            status, text = get(port, "/metrics")
            self.assertEqual(status, 200)
            check = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True)
            # ingress-nginx's own counters are named without _total (its real exposition
            # fails this lint too): with --metrics-compat=nginx that lint is expected for them.
            problems = [l for l in (check.stdout + check.stderr).decode().splitlines()
                        if l.strip() and not (l.startswith("nginx_ingress_controller_")
                                              and l.endswith('counter metrics should have "_total" suffix'))]
            self.assertEqual(problems, [], check.stdout.decode() + check.stderr.decode())
            if check.returncode != 0:
                self.assertEqual(check.returncode, 3)  # lint problems only, not a parse error
            plain = "".join(l + "\n" for l in text.splitlines() if "nginx_ingress_controller" not in l)
            strict = subprocess.run([PROMTOOL, "check", "metrics"], input=plain.encode(), capture_output=True)
            self.assertEqual(strict.returncode, 0, strict.stdout.decode() + strict.stderr.decode())
            self.assertNotIn("secret", text)  # request input never becomes a label
            self.assertNotIn("/item/", text)

        _, prom = self.start_prometheus(env, {"keel-dataplane": dp.metrics_port,
                                              "keel-controller": ctl.metrics_port})
        # The service label is the snapshot's "service:port" of the route's backend.
        labels = 'namespace="default",ingress="shop",service="web:80"'

        def scraped():
            up = promql(prom, "up")
            return (len(up) == 2 and all(r["value"][1] == "1" for r in up)
                    and scalar(prom, f"sum(keel_http_requests_total{{{labels}}})") is not None
                    and scalar(prom, "keel_controller_dataplanes_connected") is not None)
        wait_until(scraped, 60, interval=0.5, what="both targets up and scraped")

        jobs = {r["metric"]["job"] for r in promql(prom, "up == 1")}
        self.assertEqual(jobs, {"keel-dataplane", "keel-controller"})
        self.assertEqual(scalar(prom, f'keel_http_requests_total{{{labels},method="GET",status_class="2xx"}}'),
                         OK_REQUESTS)
        self.assertEqual(scalar(prom, 'sum(keel_http_requests_total{ingress="",status_class="4xx"})'), NOT_FOUND)
        self.assertEqual(scalar(prom, f"keel_http_request_duration_seconds_count{{{labels}}}"), OK_REQUESTS)
        self.assertEqual(scalar(prom, f'keel_http_request_duration_seconds_bucket{{{labels},le="+Inf"}}'),
                         OK_REQUESTS)
        self.assertEqual(scalar(prom, f"keel_http_upstream_duration_seconds_count{{{labels}}}"), OK_REQUESTS)
        total = scalar(prom, f"keel_http_request_duration_seconds_sum{{{labels}}}")
        self.assertGreater(total, 0)
        self.assertLess(total, OK_REQUESTS * 1.0)  # loopback requests take well under a second each
        # Quantiles work on our buckets: the median of loopback requests is under 250 ms.
        p50 = scalar(prom, f"histogram_quantile(0.5, keel_http_request_duration_seconds_bucket{{{labels}}})")
        self.assertLessEqual(p50, 0.25)
        # ingress-nginx names for migrating dashboards (status is a class).
        self.assertEqual(scalar(prom, 'sum(nginx_ingress_controller_requests{ingress="shop",status=~"2.."})'),
                         OK_REQUESTS)
        self.assertEqual(scalar(prom, 'nginx_ingress_controller_request_duration_seconds_count{ingress="shop"}'),
                         OK_REQUESTS)
        # Dataplane state and controller state.
        self.assertEqual(scalar(prom, 'keel_upstream_endpoints{cluster=~".*web.*",state="routable"}'), 1)
        self.assertEqual(scalar(prom, "keel_config_connected"), 1)
        self.assertEqual(scalar(prom, "keel_config_nacks_total"), 0)
        self.assertEqual(scalar(prom, "keel_controller_dataplanes_connected"), 1)
        self.assertEqual(scalar(prom, 'keel_controller_dataplane_acks_total{dataplane="dataplane"}') >= 1, True)
        self.assertEqual(scalar(prom, 'keel_controller_watched_objects{kind="Ingress"}'), 2)
        self.assertEqual(scalar(prom, 'keel_controller_rejected_objects{kind="Ingress"}'), 1)  # "broken"
        self.assertGreaterEqual(scalar(prom, 'keel_controller_translation_duration_seconds_count{mode="full"}'), 1)
        version = promql(prom, "keel_config_info")[0]["metric"]["version"]
        self.assertEqual(promql(prom, "keel_controller_snapshot_info")[0]["metric"]["version"], version)

        # The shipped Grafana dashboard: every query parses and runs, and every keel_
        # metric it names is exported by one of the binaries.
        exported = get(dp.metrics_port, "/metrics")[1] + get(ctl.metrics_port, "/metrics")[1]
        with open(os.path.join(os.path.dirname(__file__), "..", "helm", "keel", "dashboards", "keel-overview.json")) as f:
            dashboard = json.load(f)
        exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
        self.assertGreater(len(exprs), 15)
        for expr in exprs:
            q = expr.replace("$__rate_interval", "5s").replace('"$namespace"', '".*"').replace('"$ingress"', '".*"')
            promql(prom, q)  # raises unless Prometheus accepts it
            for name in re.findall(r"keel_[a-z_]+", expr):
                base = re.sub(r"_(bucket|count|sum)$", "", name)
                if base in API_SOURCE_ONLY:
                    continue
                self.assertTrue(f"# TYPE {base} " in exported, f"dashboard uses {name}, not exported")

        # Controller admin endpoints on the metrics port.
        self.assertEqual(get(ctl.metrics_port, "/healthz")[0], 200)
        self.assertEqual(get(ctl.metrics_port, "/readyz")[0], 200)
        status, body = get(ctl.metrics_port, "/diagnostics")
        self.assertEqual(status, 200)
        diags = json.loads(body)["diagnostics"]
        self.assertTrue(any(d["kind"] == "Ingress" and d["name"] == "broken" for d in diags), diags)

        # One JSON access log line per request, after the writer's next pass.
        def lines():
            out = [json.loads(l) for l in env.log("dataplane").splitlines() if l.startswith("{")]
            return out if len(out) >= OK_REQUESTS + NOT_FOUND else None
        entries = wait_until(lines, 5, what="access log lines")
        self.assertEqual(len(entries), OK_REQUESTS + NOT_FOUND)
        ok = [e for e in entries if e["status"] == 200]
        self.assertEqual(len(ok), OK_REQUESTS)
        e = ok[0]
        self.assertEqual((e["method"], e["host"], e["protocol"]), ("GET", "shop.test", "HTTP/1.1"))
        self.assertTrue(e["path"].startswith("/item/"))
        self.assertEqual((e["namespace"], e["ingress"], e["service"]), ("default", "shop", "web:80"))
        self.assertEqual(e["upstream"], f"127.0.0.1:{backend}")
        self.assertEqual(e["upstream_status"], 200)
        self.assertEqual(e["user_agent"], "e2e/1")
        self.assertEqual(len(e["request_id"]), 32)
        self.assertEqual(e["client"], "127.0.0.1")
        self.assertEqual(sorted(x["status"] for x in entries if x["status"] != 200), [404] * NOT_FOUND)

    def test_access_log_upstreaminfo_and_sampling_off(self):
        env = self.env()
        backend = env.start_echo("echo-web")
        env.write("services.yaml", env.service("web", [backend]))
        env.write("world.yaml", WORLD)
        env.start_controller()
        info = env.start_dataplane("dp-info", extra=["--access-log", "upstreaminfo"])
        none = env.start_dataplane("dp-none", extra=["--access-log-sample", "0"])
        env.wait_ready(info)
        env.wait_ready(none)
        for dp in (info, none):
            self.assertEqual(request(dp.http_port, "/a", "shop.test").status, 200)
        line = wait_until(lambda: [l for l in env.log("dp-info").splitlines() if l.startswith("127.0.0.1 - - [")],
                          5, what="upstreaminfo line")[0]
        self.assertIn('"GET /a HTTP/1.1" 200 ', line)
        self.assertIn(f"[default-web:80] [] 127.0.0.1:{backend} - ", line)
        time.sleep(0.2)  # the writer passes every 5 ms
        self.assertFalse([l for l in env.log("dp-none").splitlines() if l.startswith("{")])
        # Counted even when not logged.
        self.assertIn('service="web:80",method="GET",status_class="2xx"} 1', get(none.metrics_port, "/metrics")[1])

    def test_bad_flags_are_refused(self):
        dp = os.path.join(os.environ.get("KEEL_BUILD_DIR", "build/ci"), "dataplane", "keel-dataplane")
        for flag in (["--access-log", "xml"], ["--access-log-sample", "1.5"], ["--metrics-compat", "envoy"]):
            r = subprocess.run([dp, "--insecure-config-channel", *flag], capture_output=True, timeout=10)
            self.assertEqual(r.returncode, 2, flag)
            self.assertIn(flag[0], r.stderr.decode())


if __name__ == "__main__":
    unittest.main()
