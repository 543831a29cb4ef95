"""TLS handshake load: each connection does a TLS 1.3 handshake, one `GET` with
`Connection: close`, reads the answer and closes. `--resume` offers the session ticket
of the previous connection (RFC 8446 §2.2 PSK resumption), so the server skips the
certificate signature. Run as its own process: `python3 -m harness.tlsload ...`; prints
one JSON line. (`openssl s_time` was tried first: it stalls ~15 ms per connection on
loopback and cannot show that TLS 1.3 resumption really happened.)
"""
import argparse
import json
import multiprocessing
import socket
import ssl
import time


def worker(port, host, seconds, resume, out):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the same self-signed certificate for every system
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    req = f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    session, lat, errors, resumed, ok = None, [], 0, 0, 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname=host, session=session if resume else None) as s:
                    s.sendall(req)
                    data = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    if not data.startswith(b"HTTP/1.1 200"):
                        errors += 1
                        continue
                    resumed += s.session_reused
                    session = s.session
            ok += 1
            lat.append(time.perf_counter() - t0)
        except (OSError, ssl.SSLError):
            errors += 1
    out.put((ok, errors, resumed, lat))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="bench.test")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--resume", action="store_true")
    a = ap.parse_args()
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=worker, args=(a.port, a.host, a.seconds, a.resume, q))
          for _ in range(a.clients)]
    t0 = time.perf_counter()
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    wall = time.perf_counter() - t0
    lat = sorted(x for r in results for x in r[3])
    ok = sum(r[0] for r in results)
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else None
    print(json.dumps({"requests": ok, "errors": sum(r[1] for r in results), "resumed": sum(r[2] for r in results),
                      "seconds": wall, "rps": ok / wall, "p50_ms": pct(0.5), "p99_ms": pct(0.99)}))


if __name__ == "__main__":
    main()
