"""bench/run.sh entry point: start the backend and every installed system, run the
scenarios, print and write the Markdown report. `--smoke` is the CI shape: one short
run per system and scenario, a small Ingress world, keel-only rolling update.
"""
import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time

from . import control, grpcbench, report, throughput
from .keel import Keel
from .procs import PROXY_CORE
from .systems import ROOT, Backend, Direct, Haproxy, Nginx, Varnish

TOOLS = {"nginx": "nginx", "haproxy": "haproxy", "varnish": "varnishd"}


def parse(argv):
    ap = argparse.ArgumentParser(prog="bench/run.sh")
    ap.add_argument("--smoke", action="store_true", help="short CI run: proves the harness, not the figures")
    ap.add_argument("--build", default=None, help="keel build dir (default build/release, else build/ci)")
    ap.add_argument("--out", default=None, help="report folder (default bench/results; smoke: a temp dir)")
    ap.add_argument("--seconds", type=float, default=None, help="measured seconds per run")
    ap.add_argument("--reps", type=int, default=None, help="repetitions (systems alternate inside each)")
    ap.add_argument("--scenarios", default="1,2,3,4,5,6,7,8")
    ap.add_argument("--systems", default="direct,keel,nginx,haproxy,varnish")
    ap.add_argument("--ingresses", type=int, default=None)
    ap.add_argument("--changes", type=int, default=None)
    a = ap.parse_args(argv)
    smoke = a.smoke
    a.seconds = a.seconds or (1.0 if smoke else 10.0)
    a.reps = a.reps or (1 if smoke else 5)
    a.ingresses = a.ingresses or (200 if smoke else 10000)
    a.changes = a.changes or (3 if smoke else 30)
    if not a.build:
        rel = os.path.join(ROOT, "build", "release")
        a.build = rel if os.path.exists(os.path.join(rel, "dataplane", "keel-dataplane")) else \
            os.path.join(ROOT, "build", "ci")
    a.out = a.out or (None if smoke else os.path.join(ROOT, "bench", "results"))
    return a


def main(argv):
    a = parse(argv)
    if os.cpu_count() < 2:
        print("bench: needs 2 cores (proxy on core 1, backend + load on core 0)", file=sys.stderr)
        return 1
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            print(f"bench: {tool} is not installed (bench/run.sh installs it); skipping", file=sys.stderr)
            return 77
    os.environ["PATH"] += ":/usr/sbin"
    a.workdir = tempfile.mkdtemp(prefix="keel-bench-")
    os.chmod(a.workdir, 0o755)  # nginx workers run as nobody when started by root (proxy_cache dir)
    t_start = time.time()
    log = lambda m: print(f"[{time.time() - t_start:6.1f}s] {m}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    mach = report.machine(ROOT)
    mach["build"] = a.build
    keys = [k for k in throughput.SCENARIOS if k[0] in a.scenarios.split(",")]
    wanted = a.scenarios.split(",")
    names = [n for n in a.systems.split(",") if n in ("direct", "keel") or shutil.which(TOOLS[n])]
    skipped = [n for n in a.systems.split(",") if n not in names]
    if skipped:
        log(f"not installed, skipped: {', '.join(skipped)}")
    systems, summary, scale, rolling, grpc = [], {}, None, None, None
    backend = Backend(a.workdir)
    try:
        if keys:
            for n in names:
                if n == "direct":
                    systems.append(Direct(a.workdir, backend))
                elif n == "keel":
                    k = Keel(a.workdir, a.build, [backend.port])
                    k.wait_routable()
                    systems.append(k)
                elif n == "nginx":
                    systems.append(Nginx(a.workdir, [backend.port]))
                elif n == "haproxy":
                    systems.append(Haproxy(a.workdir, [backend.port]))
                elif n == "varnish":
                    systems.append(Varnish(a.workdir, backend.port))
            log("systems up: " + ", ".join(s.name for s in systems) + f" (proxies on core {PROXY_CORE})")
            results = throughput.run_all(systems, backend, keys, a, log)
            summary = {k: {n: report.summarize(r) for n, r in per.items()} for k, per in results.items()}
            for s in systems:
                s.stop()
            systems = []
        if "6" in wanted and "keel" in names:
            try:
                scale = control.scale(a.workdir, a.build, backend, a.ingresses, a.changes, log)
            except Exception as e:
                scale = {"error": str(e)[:300]}
        if "7" in wanted:
            rolling = {}
            for n in (["keel"] if a.smoke else ["keel", "nginx", "haproxy"]):
                if n in names:
                    rolling[n] = control.rolling(a.workdir, a.build, n, 10, 0.3 if a.smoke else 0.6, log)
        if "8" in wanted:
            grpc = grpcbench.run(a, [n for n in names if n in ("direct", "keel", "nginx", "haproxy")], log)
    finally:
        for s in systems:
            s.stop()
        backend.stop()
    mach["load_avg_end"] = open("/proc/loadavg").read().split()[:3]
    md = report.markdown(mach, summary, names, scale, rolling, a)
    if grpc:
        md += "\n" + grpcbench.markdown(grpc, names)
    print(md)
    out = a.out or a.workdir
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "RESULTS.md"), "w") as f:
        f.write(md + "\n")
    with open(os.path.join(out, "raw.json"), "w") as f:
        json.dump({"machine": mach, "summary": summary, "scale": scale, "rolling": rolling, "grpc": grpc,
                   "results": locals().get("results")}, f, indent=1, default=str)
    log(f"report: {os.path.join(out, 'RESULTS.md')}")
    if not a.smoke or a.out:
        shutil.rmtree(a.workdir, ignore_errors=True)
    # The smoke run fails when the harness could not measure a system it has (not on figures).
    failed = [f"{k}/{n}" for k, per in summary.items() for n, s in per.items() if "failed" in s.get("na", "")]
    if scale and "error" in scale:
        failed.append("6")
    failed += [f"7/{n}" for n, r in (rolling or {}).items() if "error" in r]
    if grpc:  # the gate's n/a is a result; a harness that could not run the scenario is not
        failed += ["8"] if "error" in grpc else [f"8/{n}" for n, s in grpc["summary"].items()
                                                  if "did not start" in s.get("na", "") or
                                                  (n in ("direct", "keel") and "na" in s)]
    if failed:
        log("harness failures: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
