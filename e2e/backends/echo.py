#!/usr/bin/env python3
"""Echo backend for the demo and the end-to-end tests.

Answers every request with JSON naming the instance that answered and the request it
saw (method, path, headers, body size), so a test can tell which endpoint a request
reached and what the proxy forwarded. Speaks HTTP/1.1 keep-alive and WebSocket echo.
Usage: echo.py --port 0 --name NAME   (prints the bound port on stdout first)
"""
import argparse
import base64
import hashlib
import json
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "keel-echo"

    def log_message(self, fmt, *args):  # quiet: tests read stdout
        pass

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.end_headers()
        self.wfile.flush()
        # Echo frames back unmasked, until a close frame or EOF.
        while True:
            hdr = self.rfile.read(2)
            if len(hdr) < 2:
                return
            opcode, length = hdr[0] & 0x0F, hdr[1] & 0x7F
            if length == 126:
                length = int.from_bytes(self.rfile.read(2), "big")
            elif length == 127:
                length = int.from_bytes(self.rfile.read(8), "big")
            mask = self.rfile.read(4) if hdr[1] & 0x80 else b"\0\0\0\0"
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length)))
            if opcode == 8:
                self.wfile.write(b"\x88\x00")
                return
            out = bytes([0x80 | opcode])
            out += bytes([len(payload)]) if len(payload) < 126 else bytes([126]) + len(payload).to_bytes(2, "big")
            self.wfile.write(out + payload)
            self.wfile.flush()

    def _handle(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self._websocket()
        body = self._body()
        delay = self.headers.get("X-Echo-Delay-Ms")
        if delay:
            time.sleep(int(delay) / 1000)
        status = int(self.headers.get("X-Echo-Status", "200"))
        out = json.dumps({
            "instance": self.server.name,
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body_bytes": len(body),
        }).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Instance", self.server.name)
        if self.command == "HEAD":
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            return
        if self.headers.get("X-Echo-Chunked"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(out), 7):
                part = out[i:i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--name", default="echo")
    args = ap.parse_args()
    srv = Server((args.host, args.port), Handler)
    srv.name = args.name
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
