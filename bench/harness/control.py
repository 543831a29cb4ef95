"""Scenarios 6 and 7: the control plane under scale and under churn.

6. N generated Ingresses (each its own Service and EndpointSlice) in manifests mode;
   then one new Ingress at a time: time from the file landing to the dataplane routing
   the new host, p50/p99 over the changes, and the RSS of both keel processes.
7. A rolling update of 10 endpoints under load: each step starts a new backend, swaps
   it for an old one in the endpoint list, then stops the old one gracefully (nginx
   SIGQUIT: in-flight requests finish, idle keep-alive connections close), as a
   Deployment rollout does. Failed requests = socket errors + non-2xx seen by wrk.
"""
import calendar
import os
import re
import signal
import subprocess
import time

from . import load
from .keel import CLASS, Keel, ingress_yaml, service_yaml, status, write_atomic
from .procs import LOAD_CORE, rss_kib
from .systems import HOST, Backend, Haproxy, Nginx


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else None


_PUBLISH = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z INFO\s+\[reconcile\] translation .* in (\d+) us")


def _published_after(log_path, t0):
    """(wall time of the first translation the controller logged after t0, its CPU-side
    duration in µs): splits change → routable into controller and dataplane shares."""
    with open(log_path, errors="replace") as f:
        for line in f:
            m = _PUBLISH.match(line)
            if m:
                t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + int(m.group(2)) / 1000
                if t >= t0 - 0.001:
                    return t, int(m.group(3))
    return None, None


def scale(d, build, backend, n, changes, log):
    man = os.path.join(d, "scale-manifests")
    os.makedirs(man, exist_ok=True)
    write_atomic(os.path.join(man, "00-class.yaml"), CLASS)
    per_file = 1000
    for f in range(0, n, per_file):
        docs = []
        for i in range(f, min(n, f + per_file)):
            docs.append(service_yaml(f"svc-{i}", [backend.port]))
            docs.append(ingress_yaml(f"ing-{i}", f"h{i}.{HOST}", f"svc-{i}"))
        write_atomic(os.path.join(man, f"10-world-{f // per_file:03d}.yaml"), "---\n".join(docs))
    t0 = time.time()
    k = Keel(d, build, [], manifests=man, try_tls=False, controller_log="info")
    try:
        k.wait_routable(f"h{n - 1}.{HOST}", timeout=300)
        initial = time.time() - t0
        log(f"scenario 6: {n} Ingresses routable {initial:.2f} s after start")
        lat, published, translate_us = [], [], []
        for c in range(changes):
            host = f"c{c}.{HOST}"
            if status(k.http, host) == 200:
                raise RuntimeError(f"{host} routable before its Ingress exists")
            path = os.path.join(man, f"20-change-{c}.yaml")
            t = time.time()
            write_atomic(path, ingress_yaml(f"change-{c}", host, f"svc-{c % n}"))
            while time.time() - t < 30:
                try:
                    if status(k.http, host, timeout=2) == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.002)
            else:
                raise RuntimeError(f"change {c} not routable after 30 s")
            lat.append(time.time() - t)
            tp, took = _published_after(k.controller.log_path, t)
            if tp:
                published.append(tp - t)
                translate_us.append(took)
            log(f"scenario 6: change {c + 1}/{changes} routable after {lat[-1] * 1000:.0f} ms "
                f"(controller published after {(tp - t) * 1000 if tp else -1:.0f} ms, translation {took} us)")
        return {"ingresses": n, "changes": changes, "initial_s": initial,
                "p50_ms": _pct(lat, 0.5) * 1000, "p99_ms": _pct(lat, 0.99) * 1000, "max_ms": max(lat) * 1000,
                "published_p50_ms": _pct(published, 0.5) * 1000 if published else None,
                "translate_p50_ms": _pct(translate_us, 0.5) / 1000 if translate_us else None,
                "controller_rss_mib": rss_kib(k.controller.pid) / 1024,
                "dataplane_rss_mib": rss_kib(k.dataplane.pid) / 1024}
    finally:
        k.stop()


def rolling(d, build, kind, endpoints, settle, log):
    """One rolling update of `endpoints` backends behind `kind` (keel, nginx, haproxy)."""
    old = [Backend(d, f"{kind}-old-{i}", h2=False) for i in range(endpoints)]
    new = []
    ports = [b.port for b in old]
    sysd = os.path.join(d, f"rolling-{kind}")
    os.makedirs(sysd, exist_ok=True)
    s = None
    try:
        if kind == "keel":
            s = Keel(sysd, build, ports, try_tls=False)
            s.wait_routable()
        else:
            s = (Nginx if kind == "nginx" else Haproxy)(sysd, ports)
        seconds = endpoints * (settle + 0.2) + 1.0
        argv = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", "-c20", f"-d{max(1, round(seconds))}s", "--latency",
                "-H", f"Host: {HOST}", "--timeout", "5s", f"http://127.0.0.1:{s.http}/"]
        w = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(0.5)
        for i in range(endpoints):
            new.append(Backend(d, f"{kind}-new-{i}", h2=False))
            ports = [b.port for b in new] + [b.port for b in old[i + 1:]]
            s.set_endpoints(ports)
            time.sleep(settle)  # the new list is live everywhere before the old pod goes
            old[i].stop(signal.SIGQUIT)
            time.sleep(0.2)
        out, _ = w.communicate(timeout=seconds + 30)
        r = load.parse_wrk(out)
        served_new = sum(b.requests_served() for b in new)
        log(f"scenario 7 {kind}: {r['requests']} requests, {r['errors']} failed, new pods served {served_new}")
        return {"requests": r["requests"], "failed": r["errors"], "rps": r["rps"], "p99_ms": r["p99_ms"],
                "served_by_new": served_new}
    except Exception as e:
        return {"error": str(e)[:200]}
    finally:
        if s:
            s.stop()
        for b in old + new:
            b.stop()
