"""Cost per proxied request, counted rather than timed, so it is repeatable on a loaded
machine: user-space instructions and heap allocations (callgrind) and syscalls (strace)
of keel-dataplane for a fixed number of requests from h2load on loopback.

    cd bench && python3 -m harness.perrequest --build ../build/ci --scenario 1 --requests 20000
    cd bench && python3 -m harness.perrequest --build ../build/ci --scenario 3 --what syscalls

Scenario 1: HTTP/1.1 keep-alive (h2load --h1, 50 connections); 3: h2c, 4 connections x
32 streams. Only the measured window counts: callgrind starts with instrumentation off
and is switched on after a warm-up (callgrind_control), strace attaches after it.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

from .keel import Keel
from .procs import LOAD_CORE
from .systems import HOST, Backend

SHAPES = {"1": ["--h1", "-c", "50"], "3": ["-c", "4", "-m", "32"]}
# libc entry points only: operator new calls malloc, counting both would count twice.
ALLOC_FNS = ("malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc")


def load(port, scenario, n):
    out = subprocess.run(["taskset", "-c", LOAD_CORE, "h2load", "-n", str(n), *SHAPES[scenario], "-H",
                          f":authority: {HOST}", f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True, timeout=600).stdout
    r = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded", out)
    if not r or int(r.group(4)) != n:
        raise RuntimeError("h2load did not finish every request: " + out[-400:])
    return n


def parse_callgrind(path):
    """(instructions, {allocation function: calls}) from one callgrind dump."""
    names, calls, total, cfn = {}, {}, 0, None
    for line in open(path, errors="replace"):
        if line.startswith(("fn=", "cfn=")):
            m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
            if m:
                if m.group(2):
                    names[m.group(1)] = m.group(2)
                name = names.get(m.group(1), "")
            else:
                name = line.split("=", 1)[1].strip()
            cfn = name if line.startswith("cfn=") else None
        elif line.startswith("calls=") and cfn is not None:
            if cfn in ALLOC_FNS:
                calls[cfn] = calls.get(cfn, 0) + int(line.split("=", 1)[1].split()[0])
            cfn = None
        elif line.startswith(("summary:", "totals:")):
            total = max(total, int(line.split()[1]))
    return total, calls


def callgrind(a, workdir, backend):
    out = os.path.join(workdir, "callgrind.out")
    s = Keel(workdir, a.build, [backend.port], try_tls=False,
             wrap=["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"])
    try:
        s.wait_routable(timeout=120)
        load(s.http, a.scenario, a.warmup)
        pid = str(s.dataplane.pid)
        subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
        n = load(s.http, a.scenario, a.requests)
        subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-d", "measured", pid], check=True, capture_output=True)
        time.sleep(0.5)
    finally:
        s.stop()
    dumps = [os.path.join(workdir, f) for f in os.listdir(workdir) if f.startswith("callgrind.out") and "measured" in
             open(os.path.join(workdir, f), errors="replace").read(4000)]
    instr, allocs = 0, {}
    for d in dumps:  # one dump per thread
        i, c = parse_callgrind(d)
        instr += i
        for k, v in c.items():
            allocs[k] = allocs.get(k, 0) + v
    print(f"callgrind scenario {a.scenario}, {n} requests: {instr / n:,.0f} instructions/request, "
          f"{sum(allocs.values()) / n:.2f} allocations/request ("
          + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(allocs.items())) + f"); dumps: {' '.join(dumps)}")


def syscalls(a, workdir, backend):
    s = Keel(workdir, a.build, [backend.port], try_tls=False)
    try:
        s.wait_routable()
        load(s.http, a.scenario, a.warmup)
        st = os.path.join(workdir, "strace.txt")
        tracer = subprocess.Popen(["strace", "-c", "-f", "-o", st, "-p", str(s.dataplane.pid)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        n = load(s.http, a.scenario, a.requests)
        tracer.send_signal(2)
        tracer.wait()
    finally:
        s.stop()
    rows = [l.split() for l in open(st) if re.match(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+\d+", l)]
    per = sorted(((int(x[3]) / n, x[-1]) for x in rows if x[-1] != "total"), reverse=True)
    print(f"strace scenario {a.scenario}, {n} requests: {sum(c for c, _ in per):.2f} syscalls/request = " +
          ", ".join(f"{name} {c:.2f}" for c, name in per if c >= 0.005))


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--scenario", default="1", choices=sorted(SHAPES))
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--what", default="both", choices=["callgrind", "syscalls", "both"])
    a = ap.parse_args(argv)
    a.build = os.path.abspath(a.build)
    workdir = tempfile.mkdtemp(prefix="keel-perrequest-")
    os.chmod(workdir, 0o755)
    backend = Backend(workdir)
    try:
        if a.what in ("callgrind", "both"):
            callgrind(a, workdir, backend)
        if a.what in ("syscalls", "both"):
            syscalls(a, workdir, backend)
    finally:
        backend.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
