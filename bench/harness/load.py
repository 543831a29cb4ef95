"""Load generators, pinned to the load core, and their output parsed into one shape:
{requests, rps, p50_ms, p99_ms, errors, seconds}. `errors` counts socket errors,
timeouts and non-2xx answers: a run with errors is reported, never silently dropped.
"""
import json
import os
import re
import subprocess
import sys

from .procs import LOAD_CORE
from .systems import HOST

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNIT[m.group(2)]


def wrk(port, path="/", conns=50, seconds=5.0, close=False, timeout=None):
    argv = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--latency",
            "-H", f"Host: {HOST}", "--timeout", "5s"]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout or seconds + 30).stdout
    return parse_wrk(out)


def parse_wrk(out):
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    if not m:
        raise RuntimeError("wrk printed no result: " + out[-300:])
    requests = int(m.group(1))
    seconds = float(m.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(3)]
    pct = dict(re.findall(r"^\s+(\d+)%\s+(\S+)$", out, re.M))
    errors = 0
    se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if se:
        errors += sum(int(x) for x in se.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    return {"requests": requests, "seconds": seconds, "rps": requests / seconds if seconds else 0.0,
            "p50_ms": _ms(pct["50"]) if "50" in pct else None, "p99_ms": _ms(pct["99"]) if "99" in pct else None,
            "errors": errors}


def h2load(port, workdir, conns=4, streams=32, seconds=5.0, path="/", extra=()):
    """h2c prior knowledge, `streams` concurrent streams on each of `conns` connections.
    h2load prints no percentiles: they come from its per-request log (`--log-file`).
    `extra`: more h2load flags (scenario 8: gRPC headers and `-d` body)."""
    log = os.path.join(workdir, "h2load.log")
    argv = ["taskset", "-c", LOAD_CORE, "h2load", "-c", str(conns), "-m", str(streams), "-D", str(max(1, round(seconds))),
            "-H", f":authority: {HOST}", "--log-file", log, *extra, f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30).stdout
    m = re.search(r"finished in ([\d.]+)(ms|s), ([\d.]+) req/s", out)
    r = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", out)
    if not m or not r:
        raise RuntimeError("h2load printed no result: " + out[-300:])
    lat = []
    with open(log) as f:
        for line in f:  # start time (µs), status, duration (µs)
            parts = line.split()
            if len(parts) == 3:
                lat.append(int(parts[2]) / 1000.0)
    os.remove(log)
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else None
    done = int(r.group(4))
    seconds_run = float(m.group(1)) * (1e-3 if m.group(2) == "ms" else 1.0)
    return {"requests": done, "seconds": seconds_run, "rps": float(m.group(3)), "p50_ms": pct(0.5),
            "p99_ms": pct(0.99), "errors": int(r.group(5)) + int(r.group(6)) + int(r.group(7)) +
            int(r.group(3)) - done}


def tls(port, seconds=5.0, resume=False, clients=4):
    argv = ["taskset", "-c", LOAD_CORE, sys.executable, "-m", "harness.tlsload", "--port", str(port),
            "--seconds", str(seconds), "--clients", str(clients)] + (["--resume"] if resume else [])
    p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, cwd=HERE)
    if p.returncode != 0:
        raise RuntimeError("tlsload failed: " + p.stderr[-300:])
    r = json.loads(p.stdout)
    if resume and r["requests"] and r["resumed"] < 0.9 * r["requests"] - clients:
        r["note"] = f"only {r['resumed']} of {r['requests']} handshakes resumed"
    return r
