"""Medians, ratios and the Markdown report (plus the raw runs as JSON).

Ratios are keel/peer: for req/s above 1 is better for keel; for CPU µs/request and
latency below 1 is better for keel. n/a carries its reason, never a made-up figure.
"""
import os
import platform
import statistics
import subprocess
import time

from .throughput import SCENARIOS


def _first_line(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except Exception as e:
        return f"? ({e})"


def machine(root):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = open("/proc/meminfo").readline().split()[1]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "cpu": f"{cpu}, {os.cpu_count()} cores", "memory": f"{int(mem) // 1024} MiB",
        "kernel": platform.release(), "os": _first_line(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"]),
        "load_avg": open("/proc/loadavg").read().split()[:3],
        "keel": _first_line(["git", "-C", root, "log", "-1", "--format=%h %s"]),
        "nginx": _first_line(["nginx", "-v"]), "haproxy": _first_line(["haproxy", "-v"]),
        "varnish": _first_line(["varnishd", "-V"]), "wrk": _first_line(["wrk", "-v"]),
        "h2load": _first_line(["h2load", "--version"]),
    }


def summarize(runs):
    """Median of the good runs; n/a or failure with its reason when none is good."""
    good = [r for r in runs if "rps" in r]
    if not good:
        bad = runs[0] if runs else {"na": "not run"}
        return {"na": bad.get("na") or "failed: " + bad.get("failed", "?")}
    med = lambda k: statistics.median([r[k] for r in good if r.get(k) is not None]) \
        if any(r.get(k) is not None for r in good) else None
    return {"rps": med("rps"), "p50_ms": med("p50_ms"), "p99_ms": med("p99_ms"), "cpu_us": med("cpu_us"),
            "errors": sum(r["errors"] for r in good), "runs": len(good),
            "rps_spread": (min(r["rps"] for r in good), max(r["rps"] for r in good))}


def _f(x, fmt="{:.0f}"):
    return "n/a" if x is None else fmt.format(x)


def _ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"


def markdown(mach, summary, names, scale=None, rolling=None, args=None):
    peers = [n for n in names if n not in ("keel", "direct")]
    notes = []
    out = ["# keel side by side with nginx, haproxy and varnish", ""]
    out += ["## Machine", ""] + [f"- {k}: {v}" for k, v in mach.items()] + [""]
    if args:
        out += [f"Runs: {args.reps} repetition(s) of {args.seconds} s per system and scenario, systems alternating, "
                "medians reported. Proxy pinned to core 1 (one worker/thread), backend (nginx, 1 worker, fixed "
                "128-byte body) and load generator pinned to core 0. CPU µs/request = utime+stime of the proxy's "
                "processes during the measured run / requests served (for `direct`: the backend's own CPU).", ""]
    out += ["## Ratios (keel / other)", "",
            "req/s: >1 is keel faster. CPU µs/req and p99: <1 is keel cheaper / faster.", "",
            "| scenario | metric | " + " | ".join(f"keel/{p}" for p in ["direct"] + peers) + " |",
            "|---|---|" + "---|" * (len(peers) + 1)]
    for key, per in summary.items():
        k = per.get("keel", {})
        if "na" in k:
            out.append(f"| {key} | all | " + " | ".join(["n/a"] * (len(peers) + 1)) + " |")
            notes.append(f"- scenario {key}: keel n/a: {k['na']}")
            continue
        for metric, label in (("rps", "req/s"), ("cpu_us", "CPU µs/req"), ("p99_ms", "p99")):
            cells = [_ratio(k.get(metric), per.get(p, {}).get(metric)) for p in ["direct"] + peers]
            out.append(f"| {key} | {label} | " + " | ".join(cells) + " |")
    out += [""] + notes
    out += ["", "## Raw figures (medians)", ""]
    for key, per in summary.items():
        out += [f"### Scenario {key}: {SCENARIOS[key][0]}", "",
                "| system | req/s | (min–max) | p50 ms | p99 ms | CPU µs/req | errors | runs |",
                "|---|---|---|---|---|---|---|---|"]
        for n in names:
            s = per.get(n, {"na": "not run"})
            if "na" in s:
                out.append(f"| {n} | n/a: {s['na']} | | | | | | |")
            else:
                lo, hi = s["rps_spread"]
                out.append(f"| {n} | {_f(s['rps'])} | {lo:.0f}–{hi:.0f} | {_f(s['p50_ms'], '{:.2f}')} | "
                           f"{_f(s['p99_ms'], '{:.2f}')} | {_f(s['cpu_us'], '{:.1f}')} | {s['errors']} | {s['runs']} |")
        out.append("")
    if scale:
        out += ["## Scenario 6: Ingresses at scale (manifests mode)", ""]
        if "error" in scale:
            out += [f"FAILED: {scale['error']}", ""]
        else:
            out += ["| Ingresses | changes | start → all routable s | change → routable p50 ms | p99 ms | max ms | "
                    "controller RSS MiB | dataplane RSS MiB |", "|---|---|---|---|---|---|---|---|",
                    f"| {scale['ingresses']} | {scale['changes']} | {scale['initial_s']:.2f} | {scale['p50_ms']:.0f} | "
                    f"{scale['p99_ms']:.0f} | {scale['max_ms']:.0f} | {scale['controller_rss_mib']:.0f} | "
                    f"{scale['dataplane_rss_mib']:.0f} |", "",
                    f"Split (p50, from the controller's log): file → controller published "
                    f"{_f(scale.get('published_p50_ms'))} ms, of which translation {_f(scale.get('translate_p50_ms'))} ms; "
                    "the rest up to routable is the gRPC push and the dataplane's apply. "
                    "The controller polls the manifests folder every 200 ms, so up to 200 ms of each figure is "
                    "the poll interval, not the work.", ""]
    if rolling:
        out += ["## Scenario 7: rolling update of 10 endpoints under load (wrk, 20 connections)", "",
                "| system | requests | failed | req/s | p99 ms | served by new pods |", "|---|---|---|---|---|---|"]
        for n, r in rolling.items():
            if "error" in r:
                out.append(f"| {n} | FAILED: {r['error']} | | | | |")
            else:
                out.append(f"| {n} | {r['requests']} | {r['failed']} | {r['rps']:.0f} | {_f(r['p99_ms'], '{:.1f}')} "
                           f"| {r['served_by_new']} |")
        out += ["", "keel changes endpoints through the manifests folder (no reload); nginx reloads (SIGHUP), "
                "haproxy reloads in master-worker mode (SIGUSR2).", ""]
    return "\n".join(out)
