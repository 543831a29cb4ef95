"""Scenarios 1–5: the same load against every system, systems alternating inside each
repetition (so a burst of noise from the shared machine hits all of them alike).

Every measured run is preceded by a short warm-up of the same shape; the proxy's CPU
time and the backend's request counter are sampled around the measured run only.
"""
from . import load
from .keel import status

# key -> (title, listener attribute, runner)
SCENARIOS = {
    "1": ("HTTP/1.1 keep-alive, 128-byte response (50 connections)", "http",
          lambda port, a: load.wrk(port, "/", 50, a.seconds)),
    "2": ("HTTP/1.1, new connection per request (50 concurrent)", "http",
          lambda port, a: load.wrk(port, "/", 50, a.seconds, close=True)),
    "3": ("HTTP/2 h2c, 4 connections x 32 streams", "h2",
          lambda port, a: load.h2load(port, a.workdir, 4, 32, a.seconds)),
    "4a": ("TLS 1.3 full handshake + 1 request per connection (4 clients)", "tls",
           lambda port, a: load.tls(port, a.seconds, resume=False, clients=2 if a.smoke else 4)),
    "4b": ("TLS 1.3 resumed handshake (session ticket) + 1 request per connection", "tls",
           lambda port, a: load.tls(port, a.seconds, resume=True, clients=2 if a.smoke else 4)),
    "5": ("cache hit, 128-byte object (50 keep-alive connections)", "cache",
          lambda port, a: load.wrk(port, "/cached", 50, a.seconds)),
}
CACHE_SYSTEMS = ("keel", "nginx", "haproxy", "varnish")


def listener(system, key):
    """The port `system` serves scenario `key` on, or (None, reason)."""
    kind = SCENARIOS[key][1]
    if kind == "cache":
        if system.name not in CACHE_SYSTEMS:
            return None, system.unsupported.get("cache", "not a cache")
        return system.http, None
    if kind in system.unsupported:
        return None, system.unsupported[kind]
    port = getattr(system, kind)
    if system.name == "varnish":
        return None, "varnish is compared on the cache scenario only"
    return port, None if port else f"no {kind} listener"


def measure(system, backend, key, args):
    port, why = listener(system, key)
    if port is None:
        return {"na": why}
    run = SCENARIOS[key][2]
    warm = type(args)(**{**vars(args), "seconds": 1.0})
    try:
        if SCENARIOS[key][1] == "cache":
            for _ in range(2):  # fill the cache before 50 connections race for the first copy
                status(port, path="/cached")
        if not args.smoke:  # the smoke run proves the harness, it does not need warm caches
            run(port, warm)
        c0, b0 = system.cpu(), backend.requests_served()
        r = run(port, args)
        c1, b1 = system.cpu(), backend.requests_served()
    except Exception as e:  # a crashed or refusing system is a result, not a harness failure
        return {"failed": str(e)[:200]}
    r["cpu_us"] = (c1 - c0) * 1e6 / r["requests"] if r["requests"] else None
    r["backend_requests"] = b1 - b0
    if SCENARIOS[key][1] == "cache" and r["requests"] and r["backend_requests"] > 0.01 * r["requests"]:
        # Not a cache hit run: the origin answered. Honest n/a instead of a proxy figure.
        return {"na": f"not cached by this build: the backend served {r['backend_requests']} of "
                      f"{r['requests']} requests", "raw": r}
    return r


def run_all(systems, backend, keys, args, log):
    """results[key][system name] = list of run dicts."""
    results = {k: {s.name: [] for s in systems} for k in keys}
    for rep in range(args.reps):
        for key in keys:
            order = systems[rep % len(systems):] + systems[:rep % len(systems)]  # rotate who goes first
            for s in order:
                r = measure(s, backend, key, args)
                results[key][s.name].append(r)
                log(f"rep {rep + 1}/{args.reps} scenario {key} {s.name}: " +
                    (f"n/a ({r['na']})" if "na" in r else f"FAILED ({r['failed']})" if "failed" in r else
                     f"{r['rps']:.0f} req/s p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms "
                     f"cpu {r['cpu_us'] or 0:.1f} us/req errors {r['errors']}" +
                     (f" resumed {r['resumed']}" if "resumed" in r else "")))
    return results
