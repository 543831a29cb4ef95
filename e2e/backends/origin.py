#!/usr/bin/env python3
"""Origin backend for the cache tests: it counts what reaches it.

Every response is shaped by the query string, so one process serves all cases:
  cc=<Cache-Control>   etag=<tag>   vary=<field>   delay=<seconds>   size=<bytes>
  type=<Content-Type>  lm=<Last-Modified>
The body names the request's number for that path (n=<k>) and, with vary=, the
value the varied field had, so a test sees whether an answer came from the cache.
A request whose If-None-Match matches etag= gets 304 without a body.
GET /__stats (straight to the backend, not through the proxy) returns the counts:
{"total": N, "not_modified": N, "paths": {"/p?q": N}}.
Usage: origin.py --port 0   (prints the bound port on stdout first)
"""
import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()
STATS = {"total": 0, "not_modified": 0, "paths": {}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        # Head and body go out in two writes: without this, Nagle + delayed ACK cost 40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _answer(self, head_only):
        url = urlsplit(self.path)
        if url.path == "/__stats":
            body = json.dumps(STATS).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        with LOCK:
            STATS["total"] += 1
            count = STATS["paths"].get(self.path, 0) + 1
            STATS["paths"][self.path] = count
        if "delay" in q:
            time.sleep(float(q["delay"]))
        etag = q.get("etag")
        if etag and self.headers.get("If-None-Match") in ('"%s"' % etag, 'W/"%s"' % etag):
            with LOCK:
                STATS["not_modified"] += 1
            self.send_response(304)
            self.send_header("ETag", '"%s"' % etag)
            if "cc" in q:
                self.send_header("Cache-Control", q["cc"])
            self.end_headers()
            return
        text = "n=%d path=%s method=%s" % (count, url.path, self.command)
        if "vary" in q:
            text += " %s=%s" % (q["vary"], self.headers.get(q["vary"], ""))
        body = text.encode()
        if "size" in q:
            size = int(q["size"])
            body = (body + b"\n" + b"abcdefghij" * (size // 10 + 1))[:size]
        self.send_response(int(q.get("status", "200")))
        self.send_header("Content-Type", q.get("type", "text/plain"))
        self.send_header("Content-Length", str(len(body)))
        for name, key in (("Cache-Control", "cc"), ("Vary", "vary"), ("Last-Modified", "lm")):
            if key in q:
                self.send_header(name, q[key])
        if etag:
            self.send_header("ETag", '"%s"' % etag)
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def do_GET(self):
        self._answer(False)

    def do_HEAD(self):
        self._answer(True)

    def do_POST(self):
        self._answer(False)

    do_PUT = do_DELETE = do_POST


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
