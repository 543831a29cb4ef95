#!/usr/bin/env python3
"""A fake Kubernetes API server for tests and local runs (Python 3 stdlib only).

Faithful to the wire captures of a 1.26 server where clients can tell: discovery and
OpenAPI v3 documents (enough for real kubectl apply/get/delete/get -w), CRUD with a
global resourceVersion, chunked watch streams with BOOKMARKs, 410 Expired as an
ERROR event, Status error bodies, bearer-token auth (no token 403, wrong token 401).

  fakeapi.py --port 0 [--token T]... [--state-file F] [--history N]
             [--bookmark-interval S] [--tls-cert C --tls-key K [--client-ca CA]]

With --port 0 the bound port is the first line on stdout. Fault-injection and
inspection hooks live under /__fake/ (see AdminHandler below); they need no token.
"""

import argparse
import json
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import resources as R
from api import Api
from patch import PatchError, decode_body
from store import Store, object_matches, parse_selector
from table import to_table, wants_table

PUBLIC_PATHS = {"/version", "/healthz", "/livez", "/readyz"}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, opts):
        super().__init__(addr, Handler)
        self.opts = opts
        self.tokens = set(opts.token or [])
        self.store = Store(opts.history, opts.state_file)
        self.api = Api(self.store)
        self.api.ensure_namespaces(["default", "kube-system", "kube-public", "kube-node-lease"])
        self.discovery = R.Discovery()
        self.requests = []  # (method, path, token) for /__fake/requests
        self.failures = []  # [path prefix, code, remaining] for /__fake/fail
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeapi"
    # Headers and body go out in separate writes; with Nagle the body would wait for
    # the client's delayed ACK (40 ms per reply, measured).
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            sys.stderr.write("fakeapi: " + (fmt % args) + "\n")

    # --- plumbing ---

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _token(self):
        auth = self.headers.get("Authorization", "")
        return auth[7:].strip() if auth.startswith("Bearer ") else None

    def _authenticated(self):
        """None when allowed, else (code, Status) as a real server answers."""
        if not self.server.tokens:
            return None
        if isinstance(self.connection, ssl.SSLSocket) and self.connection.getpeercert():
            return None  # a client certificate signed by --client-ca
        token = self._token()
        if token is None:
            return "anonymous"
        return None if token in self.server.tokens else R.unauthorized()

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        raw = self._body()
        if path.startswith("/__fake/"):
            return self._send(*admin(self.server, method, path[len("/__fake/"):], query, raw))
        with self.server.lock:
            self.server.requests.append((method, self.path, self._token()))
            del self.server.requests[:-1000]
            for f in self.server.failures:
                if path.startswith(f[0]) and f[2] > 0:
                    f[2] -= 1
                    return self._send(*R.status(f[1], "InternalError", "injected by /__fake/fail"))
        if path in PUBLIC_PATHS:
            return self._send(200, self.server.discovery.version) if path == "/version" else \
                self._send(200, b"ok", "text/plain; charset=utf-8")
        auth = self._authenticated()
        route = self._route(path)
        if auth == "anonymous":
            res, ns = (route[0], route[1]) if route else (None, None)
            verb = {"GET": "list" if route and not route[2] else "get", "POST": "create",
                    "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
            return self._send(*R.forbidden(verb, res, ns, path))
        if auth:
            return self._send(*auth)
        if route is None:
            return self._discovery(method, path)
        res, ns, name, sub = route
        self._resource(method, res, ns, name, sub, query, raw)

    def _route(self, path):
        """(resource, namespace, name, subresource) for resource URLs, else None."""
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        ns = ""
        if rest[0] == "namespaces" and len(rest) >= 3 and (group, version, rest[2]) in R.BY_PATH:
            ns, rest = rest[1], rest[2:]
        res = R.BY_PATH.get((group, version, rest[0]))
        if res is None or len(rest) > 3 or (ns and not res.namespaced):
            return None
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if sub and (sub != "status" or not res.status):
            return None
        return res, ns, name, sub

    def _discovery(self, method, path):
        d = self.server.discovery
        if method != "GET":
            return self._send(*R.method_not_allowed())
        if path == "/api":
            return self._send(200, d.api)
        if path == "/apis":
            return self._send(200, d.apis)
        if path == "/openapi/v3":
            return self._send(200, d.openapi_index)
        if path.startswith("/openapi/v3/"):
            doc = d.openapi(path[len("/openapi/v3/"):])
            if doc is not None:
                return self._send(200, doc)
        parts = path.strip("/").split("/")
        gv = ("", parts[1]) if parts[0] == "api" and len(parts) == 2 else \
            (parts[1], parts[2]) if parts[0] == "apis" and len(parts) == 3 else None
        if gv in d.resource_lists:
            return self._send(200, d.resource_lists[gv])
        if parts[0] == "apis" and len(parts) == 2 and d.group(parts[1]):
            return self._send(200, d.group(parts[1]))
        self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")

    def _resource(self, method, res, ns, name, sub, query, raw):
        api = self.server.api
        manager = query.get("fieldManager") or self.headers.get("User-Agent", "unknown").split("/")[0]
        table = wants_table(self.headers.get("Accept", ""))
        try:
            if method == "GET" and not name:
                if query.get("watch") in ("1", "true"):
                    return self._watch(res, ns, query, table)
                code, body = api.list(res, ns, query)
            elif method == "GET":
                code, body = api.get(res, ns, name, sub)
            elif method == "POST" and not name:
                code, body = api.create(res, ns, decode_body(raw), query, manager)
            elif method == "PUT" and name:
                code, body = api.update(res, ns, name, sub, decode_body(raw), query, manager)
            elif method == "PATCH" and name:
                code, body = api.patch(res, ns, name, sub, raw, self.headers.get("Content-Type"),
                                       query, manager)
            elif method == "DELETE" and name:
                code, body = api.delete(res, ns, name, decode_body(raw))
            else:
                code, body = R.method_not_allowed()
        except PatchError as e:
            code, body = R.bad_request(str(e))
        if table and code == 200 and body.get("kind") != "Status":
            body = to_table(res, body)
        self._send(code, body)

    # --- watch ---

    def _chunk(self, obj):
        data = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _watch(self, res, ns, query, table):
        store, opts = self.server.store, self.server.opts
        labels = parse_selector(query.get("labelSelector", ""))
        fields = parse_selector(query.get("fieldSelector", ""))
        bookmarks = query.get("allowWatchBookmarks") in ("1", "true")
        timeout = float(query.get("timeoutSeconds") or opts.default_watch_timeout)
        rv = query.get("resourceVersion", "")
        since = int(rv) if rv.isdigit() and rv != "0" else None
        watcher, initial = store.start_watch(res, ns, since)
        self.send_response(200)
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if watcher is None:
                # Exactly what a restarted 1.26 server answers (16-watch-expired-after-restart).
                self._chunk({"type": "ERROR", "object": R.expired(
                    f"too old resource version: {rv} ({store.compacted_rv})")[1]})
                self.wfile.write(b"0\r\n\r\n")
                return
            watcher.sock = self.connection
            self._stream(watcher, initial, res, labels, fields, bookmarks, timeout, table)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
        finally:
            if watcher is not None:
                store.stop_watch(watcher)

    def _stream(self, w, pending, res, labels, fields, bookmarks, timeout, table):
        store, interval = self.server.store, self.server.opts.bookmark_interval
        start = time.monotonic()
        deadline, next_bookmark = start + timeout, start + interval
        pending = list(pending)
        while True:
            for ev in pending:
                out = _visible(ev, labels, fields)
                if out:
                    obj = to_table(res, out[1], watch=True) if table else out[1]
                    self._chunk({"type": out[0], "object": obj})
            with store.cond:
                while not w.queue and not w.drop and not w.expire:
                    now = time.monotonic()
                    wake = min(deadline, next_bookmark if bookmarks else deadline)
                    if now >= wake:
                        break
                    store.cond.wait(wake - now)
                pending = list(w.queue)
                w.queue.clear()
                bookmark_rv = store.rv
            if w.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if w.expire:
                self._chunk({"type": "ERROR", "object": R.expired(
                    f"too old resource version: {bookmark_rv} ({bookmark_rv})")[1]})
                break
            if pending:
                continue
            now = time.monotonic()
            if now >= deadline:
                # Like the real server, a bookmark right before the timeout ends the watch.
                if bookmarks:
                    self._chunk(_bookmark(res, bookmark_rv))
                break
            if bookmarks and now >= next_bookmark:
                self._chunk(_bookmark(res, bookmark_rv))
                next_bookmark = now + interval
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _bookmark(res, rv):
    return {"type": "BOOKMARK", "object": {"kind": res.kind, "apiVersion": res.api_version,
                                           "metadata": {"resourceVersion": str(rv),
                                                        "creationTimestamp": None}}}


def _visible(ev, labels, fields):
    """(type, object) this watcher sees: selector transitions become ADDED/DELETED."""
    if ev.type == "DELETED":
        return ("DELETED", ev.new) if object_matches(ev.old, labels, fields) else None
    was = ev.old is not None and object_matches(ev.old, labels, fields)
    now = object_matches(ev.new, labels, fields)
    if now:
        return ("MODIFIED" if was else "ADDED", ev.new)
    return ("DELETED", ev.new) if was else None


def admin(server, method, what, query, raw):
    """Test hooks. drop-watches: cut every watch connection mid-stream; expire-watches:
    end every watch with ERROR 410; compact: forget the event history; tokens: replace
    the accepted bearer tokens ({"tokens": [...]}); fail: the next `count` requests under
    `path` answer `code` ({"clear": true} ends that); requests: the request log; state: rv and object count."""
    body = json.loads(raw) if raw else {}
    store = server.store
    if what == "drop-watches":
        return 200, {"watches": store.signal_watchers(drop=True)}
    if what == "expire-watches":
        return 200, {"watches": store.signal_watchers(expire=True)}
    if what == "compact":
        store.compact()
        return 200, {"compactedResourceVersion": store.compacted_rv}
    if what == "tokens" and method == "POST":
        server.tokens = set(body.get("tokens", []))
        return 200, {"tokens": len(server.tokens)}
    if what == "fail" and method == "POST":
        with server.lock:
            if body.get("clear"):
                server.failures.clear()
            else:
                server.failures.append([body["path"], int(body.get("code", 500)), int(body.get("count", 1))])
        return 200, {}
    if what == "requests":
        with server.lock:
            if method == "DELETE":
                server.requests.clear()
            return 200, {"requests": [{"method": m, "path": p, "token": t} for m, p, t in server.requests]}
    if what == "state":
        with store.cond:
            return 200, {"resourceVersion": store.rv, "compactedResourceVersion": store.compacted_rv,
                         "objects": len(store.objects), "watches": len(store.watchers)}
    return 404, {"error": f"unknown admin hook {what}"}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--token", action="append", help="accepted bearer token (repeatable); none: no auth")
    p.add_argument("--state-file", help="persist objects and resourceVersion here across restarts")
    p.add_argument("--history", type=int, default=1000, help="watch events retained for resuming")
    p.add_argument("--bookmark-interval", type=float, default=60.0, help="seconds between BOOKMARKs")
    p.add_argument("--default-watch-timeout", type=float, default=1800.0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--client-ca", help="accept client certificates signed by this CA as authenticated")
    p.add_argument("--verbose", action="store_true")
    opts = p.parse_args(argv)
    server = Server((opts.host, opts.port), opts)
    if opts.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
        if opts.client_ca:
            ctx.load_verify_locations(opts.client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        # The handshake runs in the connection's thread on first read, not in accept().
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
