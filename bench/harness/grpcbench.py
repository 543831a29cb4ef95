"""Scenario 8: gRPC through the proxy. A gRPC Echo backend (e2e/grpc/keel-e2e-grpc) behind
keel (backend-protocol GRPC), nginx (grpc_pass, upstream keepalive), haproxy (proto h2 on
both sides) and direct; h2load POSTs one gRPC-framed unary call per stream.

h2load only sees HTTP statuses, and a failed gRPC call is still HTTP 200 (grpc-status
travels in the trailers). So every system first has to complete a real gRPC call with
code 0 *and* the backend's trailing metadata x-trailer-instance; a system that loses
trailers is reported n/a, not measured. After each measured run a burst of real calls
checks the system still answers them all with code 0 (a proxy degraded by the load is a
failure with its evidence, not a figure).
"""
import json
import os
import subprocess
import time

from . import load, report
from .keel import CLASS, Keel, ingress_yaml, service_yaml, write_atomic
from .procs import LOAD_CORE, PROXY_CORE, Proc, free_port, wait_port
from .systems import HOST, System, _nginx_common, _nginx_http_common, _write, nginx_argv

PATH = "/keel.e2e.Echo/Unary"
# 5-byte gRPC prefix (uncompressed, length 4) + EchoRequest{message: "hi"} (field 1, length 2).
BODY = b"\x00\x00\x00\x00\x04" + b"\x0a\x02hi"
HEADERS = ["-H", "content-type: application/grpc", "-H", "te: trailers"]
TITLE = "gRPC unary call through the proxy (h2c, 4 connections x 32 streams)"


def tool(build):
    return os.path.join(build, "e2e", "grpc", "keel-e2e-grpc")


def call(build, port, repeat=1, parallel=1, timeout=30):
    """Real gRPC calls through 127.0.0.1:port; the tool's JSON (code, trailing, codes)."""
    argv = [tool(build), "call", "--target", f"127.0.0.1:{port}", "--authority", HOST, "--method", "unary",
            "--message", "hi", "--deadline-ms", "5000", "--repeat", str(repeat), "--parallel", str(parallel)]
    p = subprocess.run(["taskset", "-c", LOAD_CORE, *argv], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0 or not p.stdout.strip():
        raise RuntimeError(f"keel-e2e-grpc call exited {p.returncode}: {p.stderr[-200:]}")
    return json.loads(p.stdout)


def check(build, port):
    """None when a call returns code 0 with x-trailer-instance, else the reason."""
    r = call(build, port)
    if r["code"] != 0:
        return f"gRPC call returned code {r['code']} ({r['message']})", r
    if "x-trailer-instance" not in r["trailing"]:
        return f"trailers lost: trailing metadata {r['trailing']}", r
    return None, r


class GrpcBackend:
    def __init__(self, d, build):
        self.port = free_port()
        self.proc = Proc("grpc-backend", [tool(build), "serve", "--listen", f"127.0.0.1:{self.port}",
                                          "--name", "b"], d, LOAD_CORE)
        if not wait_port(self.port):
            raise RuntimeError(f"gRPC backend did not start: {self.proc.log_tail()}")

    def stop(self):
        self.proc.stop()


class GrpcDirect(System):
    name, proxy = "direct", False

    def __init__(self, backend):
        super().__init__()
        self.h2, self.procs = backend.port, [backend.proc]

    def stop(self):
        pass  # the backend outlives the systems


class GrpcNginx(System):
    name = "nginx"

    def __init__(self, d, port):
        super().__init__()
        self.h2 = free_port()
        conf = _nginx_common(d, "nginx-grpc") + "http {\n" + _nginx_http_common(d, "nginx-grpc") + f"""
  upstream grpcb {{
    server 127.0.0.1:{port};
    keepalive 64;
    keepalive_requests 10000000;
  }}
  server {{
    listen 127.0.0.1:{self.h2} http2 backlog=4096;
    location / {{ grpc_pass grpc://grpcb; }}
  }}
}}
"""
        self.proc = Proc("nginx-grpc", nginx_argv(d, "nginx-grpc", conf), d, PROXY_CORE)
        self.procs = [self.proc]
        if not wait_port(self.h2):
            raise RuntimeError(f"nginx did not start: {self.proc.log_tail()}")


class GrpcHaproxy(System):
    name = "haproxy"

    def __init__(self, d, port):
        super().__init__()
        self.h2 = free_port()
        cfg = os.path.join(d, "haproxy-grpc.cfg")
        _write(cfg, f"""global
  nbthread 1
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend fe
  bind 127.0.0.1:{self.h2} proto h2 backlog 4096
  default_backend be
backend be
  server s0 127.0.0.1:{port} proto h2
""")
        self.proc = Proc("haproxy-grpc", ["haproxy", "-db", "-f", cfg], d, PROXY_CORE)
        self.procs = [self.proc]
        if not wait_port(self.h2):
            raise RuntimeError(f"haproxy did not start: {self.proc.log_tail()}")


def grpc_keel(d, build, port):
    """keel with one Ingress whose Service is the gRPC backend (backend-protocol: GRPC)."""
    man = os.path.join(d, "keel-grpc-manifests")
    os.makedirs(man, exist_ok=True)
    write_atomic(os.path.join(man, "00-class.yaml"), CLASS)
    write_atomic(os.path.join(man, "10-backend.yaml"), service_yaml("grpc", [port]))
    write_atomic(os.path.join(man, "20-ingress.yaml"), ingress_yaml(
        "grpc", HOST, "grpc", "/", {"nginx.ingress.kubernetes.io/backend-protocol": "GRPC"}))
    return Keel(d, build, [port], manifests=man, try_tls=False)


def wait_check(build, system, timeout):
    """Retries the check while keel's config arrives; the last reason when it never passes."""
    deadline, why, r = time.time() + timeout, "not checked", {}
    while time.time() < deadline:
        why, r = check(build, system.h2)
        if why is None:
            return None, r
        time.sleep(0.1)
    return why, r


def measure(system, build, a):
    run = lambda secs: load.h2load(system.h2, a.workdir, 4, 32, secs, path=PATH, extra=HEADERS + ["-d", a.body])
    try:
        if not a.smoke:
            run(1.0)
        c0 = system.cpu()
        r = run(a.seconds)
        c1 = system.cpu()
        after = call(build, system.h2, repeat=40, parallel=4)
    except Exception as e:  # a crashed or refusing system is a result, not a harness failure
        return {"failed": str(e)[:200]}
    r["cpu_us"] = (c1 - c0) * 1e6 / r["requests"] if r["requests"] else None
    r["after_codes"] = after["codes"]
    bad = sum(n for code, n in after["codes"].items() if code != "0")
    if bad:
        return {"failed": f"after the run {bad} of 40 gRPC calls failed: codes {after['codes']}", "raw": r}
    return r


def run(a, names, log):
    """{"checks": {name: ...}, "summary": {name: ...}, "runs": {name: [...]}} or {"error": ...}."""
    a.body = os.path.join(a.workdir, "grpc-unary.bin")
    with open(a.body, "wb") as f:
        f.write(BODY)
    if not os.path.exists(tool(a.build)):
        return {"error": f"{tool(a.build)} is not built"}
    backend, systems, checks, runs = GrpcBackend(a.workdir, a.build), [], {}, {}
    try:
        for n in names:
            try:
                s = {"direct": lambda: GrpcDirect(backend), "keel": lambda: grpc_keel(a.workdir, a.build, backend.port),
                     "nginx": lambda: GrpcNginx(a.workdir, backend.port),
                     "haproxy": lambda: GrpcHaproxy(a.workdir, backend.port)}.get(n, lambda: None)()
            except RuntimeError as e:
                checks[n] = {"na": f"did not start: {str(e)[:200]}"}
                continue
            if s is None:
                continue
            why, r = wait_check(a.build, s, 30 if n == "keel" else 5)
            checks[n] = {"na": why, "call": r} if why else \
                {"code": r["code"], "x-trailer-instance": r["trailing"]["x-trailer-instance"]}
            log(f"scenario 8 {n}: check " + (f"n/a ({why})" if why else
                                             f"code 0, x-trailer-instance={checks[n]['x-trailer-instance']}"))
            if why:
                s.stop()
            else:
                systems.append(s)
                runs[n] = []
        for rep in range(a.reps):
            order = systems[rep % len(systems):] + systems[:rep % len(systems)] if systems else []
            for s in order:
                r = measure(s, a.build, a)
                runs[s.name].append(r)
                log(f"rep {rep + 1}/{a.reps} scenario 8 {s.name}: " +
                    (f"FAILED ({r['failed']})" if "failed" in r else
                     f"{r['rps']:.0f} req/s p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms "
                     f"cpu {r['cpu_us'] or 0:.1f} us/req errors {r['errors']}"))
    finally:
        dead = {s.name: s.dataplane.log_tail(10) for s in systems  # evidence of a crash under load
                if s.name == "keel" and not s.dataplane.alive()}
        for s in systems:
            s.stop()
        backend.stop()
    summary = {n: report.summarize(runs[n]) if n in runs else {"na": c["na"]} for n, c in checks.items()}
    for n, r in runs.items():
        summary[n]["failed_runs"] = [x["failed"] for x in r if "failed" in x]
    if dead:
        summary["keel"]["dataplane_exit"] = dead["keel"]
    return {"checks": checks, "summary": summary, "runs": runs}


def markdown(res, names):
    out = [f"## Scenario 8: {TITLE}", ""]
    if "error" in res:
        return "\n".join(out + [f"FAILED: {res['error']}", ""])
    out += ["Backend: e2e/grpc/keel-e2e-grpc (gRPC C++ Echo server) on core 0; h2load -c4 -m32 POSTs "
            f"`{PATH}` (content-type: application/grpc, te: trailers, 10-byte framed EchoRequest). "
            "Correctness gate per system: a real gRPC call must return code 0 with the trailing metadata "
            "x-trailer-instance; after every measured run 40 more calls must all return code 0.", "",
            "| system | gate: code, x-trailer-instance | req/s | (min–max) | p50 ms | p99 ms | CPU µs/req | "
            "errors | runs | failed runs |", "|---|---|---|---|---|---|---|---|---|---|"]
    summ, checks = res["summary"], res["checks"]
    for n in names:
        if n not in checks:
            continue
        c, s = checks[n], summ[n]
        gate = f"n/a: {c['na']}" if c.get("na") else f"{c['code']}, {c['x-trailer-instance']}"
        if "na" in s:
            out.append(f"| {n} | {gate} | n/a: {s['na']} | | | | | | | {len(s.get('failed_runs', []))} |")
        else:
            lo, hi = s["rps_spread"]
            out.append(f"| {n} | {gate} | {report._f(s['rps'])} | {lo:.0f}–{hi:.0f} | "
                       f"{report._f(s['p50_ms'], '{:.2f}')} | {report._f(s['p99_ms'], '{:.2f}')} | "
                       f"{report._f(s['cpu_us'], '{:.1f}')} | {s['errors']} | {s['runs']} | "
                       f"{len(s['failed_runs'])} |")
    k = summ.get("keel", {})
    peers = [n for n in names if n != "keel" and n in summ]
    if "na" not in k and k:
        out += ["", "| ratio | " + " | ".join(f"keel/{p}" for p in peers) + " |", "|---|" + "---|" * len(peers)]
        for metric, label in (("rps", "req/s"), ("cpu_us", "CPU µs/req"), ("p99_ms", "p99")):
            out.append(f"| {label} | " + " | ".join(report._ratio(k.get(metric), summ[p].get(metric)) for p in peers)
                       + " |")
    for n in names:
        for f in summ.get(n, {}).get("failed_runs", []):
            out.append(f"\n- {n} failed run: {f}")
    if k.get("dataplane_exit"):
        out.append(f"\n- keel-dataplane exited during the scenario; its log: {k['dataplane_exit']}")
    return "\n".join(out + [""])
