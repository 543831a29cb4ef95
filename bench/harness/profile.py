"""Where the CPU goes: one scenario against one system under `perf record` (cpu-clock,
so it works without hardware counters in VMs), then the top symbols by self time.

    cd bench && python3 -m harness.profile --build ../build/release --system keel --scenario 3
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

from . import throughput
from .keel import Keel
from .procs import tree
from .systems import Backend, Haproxy, Nginx


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--system", default="keel", choices=["keel", "nginx", "haproxy"])
    ap.add_argument("--scenario", default="1", choices=[k for k in throughput.SCENARIOS])
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--syscalls", action="store_true", help="count syscalls per request (strace -c) instead of perf")
    a = ap.parse_args(argv)
    a.smoke, a.workdir = False, tempfile.mkdtemp(prefix="keel-profile-")
    os.chmod(a.workdir, 0o755)
    backend = Backend(a.workdir)
    s = None
    try:
        if a.system == "keel":
            s = Keel(a.workdir, a.build, [backend.port])
            s.wait_routable()
        else:
            s = (Nginx if a.system == "nginx" else Haproxy)(a.workdir, [backend.port])
        data = os.path.join(a.workdir, "perf.data")
        pids = ",".join(str(pid) for p in s.procs for pid in tree(p.pid))  # nginx/haproxy workers are children
        if a.syscalls:
            st = os.path.join(a.workdir, "strace.txt")
            tracer = subprocess.Popen(["strace", "-c", "-f", "-o", st] +
                                      [x for pid in pids.split(",") for x in ("-p", pid)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            a.smoke = True  # no warm-up: strace counts everything it sees
            r = throughput.measure(s, backend, a.scenario, a)
            tracer.send_signal(2)
            tracer.wait()
            print(f"{a.system} scenario {a.scenario}: {r}")
            rows = [l.split() for l in open(st) if re.match(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+\d+", l)]
            n = r.get("requests") or 1
            per = sorted(((int(x[3]) / n, x[-1]) for x in rows if x[-1] != "total"), reverse=True)
            print(f"syscalls per request: {sum(c for c, _ in per):.2f} = " +
                  ", ".join(f"{name} {c:.2f}" for c, name in per[:12]))
            return
        perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "--call-graph", "dwarf,16384",
                                 "-o", data, "-p", pids], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = throughput.measure(s, backend, a.scenario, a)
        perf.send_signal(2)
        perf.wait()
        print(f"{a.system} scenario {a.scenario}: {r}")
        rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "--sort", "dso,symbol",
                              "-g", "none", "--percent-limit", "0.7"], capture_output=True, text=True).stdout
        by_dso = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "--sort", "dso",
                                 "-g", "none"], capture_output=True, text=True).stdout
        print("by library: " + ", ".join(" ".join(l.split()[:2]) for l in by_dso.splitlines()
                                          if l.strip() and not l.startswith("#")))
        lines = [" ".join(l.split()[:4]) for l in rep.splitlines() if l.strip() and not l.startswith("#")]
        print("\n".join(lines[:a.top]))
        print(f"perf data: {data} (perf report -i {data} --no-children -S SYMBOL -G)")
    finally:
        if s:
            s.stop()
        backend.stop()
        # the workdir (perf.data, logs) is kept for a closer look


if __name__ == "__main__":
    main(sys.argv[1:])
