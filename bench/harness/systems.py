"""The systems compared: a fixed-body nginx backend, and the proxies in front of it
(keel, nginx, haproxy, varnish), each configured equivalently: one worker pinned to the
proxy core, keep-alive to the upstream, no access log, the same backend.

Each proxy exposes up to four listeners: `http` (HTTP/1.1), `h2` (h2c prior knowledge),
`tls` (TLS 1.3, HTTP/1.1) and the `/cached` path for the cache scenario. What a build
cannot do is recorded in `unsupported` with the reason, and reported as n/a.
"""
import os
import signal
import subprocess
import time
import urllib.request

from . import procs
from .procs import LOAD_CORE, PROXY_CORE, Proc, free_port, wait_port

BODY = "k" * 127 + "\n"  # 128-byte response body (the small response)
HOST = "bench.test"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _nginx_common(d, name):
    tmp = os.path.join(d, name + "-tmp")
    os.makedirs(tmp, exist_ok=True)
    return f"""daemon off;
worker_processes 1;
pid {d}/{name}.pid;
error_log {d}/{name}-error.log error;
events {{ worker_connections 20000; }}
"""


def _nginx_http_common(d, name):
    tmp = os.path.join(d, name + "-tmp")
    return f"""  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  default_type text/plain;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
"""


def nginx_argv(d, name, conf):
    path = os.path.join(d, name + ".conf")
    _write(path, conf)
    return ["nginx", "-e", f"{d}/{name}-error.log", "-p", d, "-c", path]


class Backend:
    """nginx with one worker answering every path with the same 128 bytes; `/cached`
    adds Cache-Control so caches may keep it; `/nginx_status` counts requests served."""

    def __init__(self, d, name="backend", ports=None, h2=True):
        self.name = name
        self.ports = ports or [free_port()]
        self.port = self.ports[0]
        self.h2 = free_port() if h2 else None
        listens = "".join(f"    listen 127.0.0.1:{p} backlog=4096;\n" for p in self.ports)
        if self.h2:
            listens += f"    listen 127.0.0.1:{self.h2} http2;\n"
        conf = _nginx_common(d, name) + "http {\n" + _nginx_http_common(d, name) + f"""  server {{
{listens}    location = /nginx_status {{ stub_status; }}
    location /cached {{ add_header Cache-Control "public, max-age=3600"; return 200 "{BODY}"; }}
    location / {{ return 200 "{BODY}"; }}
  }}
}}
"""
        self.proc = Proc(name, nginx_argv(d, name, conf), d, LOAD_CORE)
        if not all(wait_port(p) for p in self.ports):
            raise RuntimeError(f"{name} did not start: {self.proc.log_tail()}")

    def requests_served(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/nginx_status", timeout=2) as r:
            lines = r.read().decode().splitlines()
        return int(lines[2].split()[2])  # "accepts handled requests" line

    def stop(self, sig=signal.SIGTERM):
        self.proc.stop(sig)


def make_cert(d):
    """One ECDSA P-256 certificate for every TLS listener (same handshake cost for all)."""
    crt, key, pem = (os.path.join(d, n) for n in ("tls.crt", "tls.key", "tls.pem"))
    if not os.path.exists(pem):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", f"/CN={HOST}",
                        "-addext", f"subjectAltName=DNS:{HOST}"], check=True, capture_output=True)
        with open(pem, "w") as out:
            out.write(open(crt).read() + open(key).read())
    return crt, key, pem


class System:
    name = "?"
    proxy = True  # False: the backend itself (the limit)

    def __init__(self):
        self.http = self.h2 = self.tls = None
        self.unsupported = {}  # scenario key -> reason
        self.procs = []

    def cpu(self):
        return sum(p.cpu() for p in self.procs)

    def stop(self):
        for p in self.procs:
            p.stop()


class Direct(System):
    name, proxy = "direct", False

    def __init__(self, d, backend, tls=False):
        super().__init__()
        self.http, self.h2 = backend.port, backend.h2
        self.procs = [backend.proc]
        self.unsupported["tls"] = "the backend serves plain HTTP only"
        self.unsupported["cache"] = "the backend is the origin"

    def stop(self):
        pass  # the backend outlives the systems


class Nginx(System):
    name = "nginx"

    def __init__(self, d, upstream_ports, cache=True):
        super().__init__()
        self.d = d
        self.http, self.h2, self.tls = free_port(), free_port(), free_port()
        crt, key, _ = make_cert(d)
        self.conf_head = _nginx_common(d, "nginx") + "http {\n" + _nginx_http_common(d, "nginx") + f"""
  proxy_cache_path {d}/nginx-cache levels=1:2 keys_zone=bench:10m max_size=64m inactive=1h use_temp_path=off;
  ssl_protocols TLSv1.3;
  ssl_session_cache shared:SSL:10m;
  ssl_session_tickets on;
"""
        self.conf_server = f"""  server {{
    listen 127.0.0.1:{self.http} backlog=4096;
    listen 127.0.0.1:{self.h2} http2 backlog=4096;
    listen 127.0.0.1:{self.tls} ssl backlog=4096;
    ssl_certificate {crt};
    ssl_certificate_key {key};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    location / {{ proxy_pass http://backend; }}
    location /cached {{ proxy_pass http://backend; proxy_cache bench; proxy_cache_valid 200 1h; }}
  }}
}}
"""
        self.conf_path = os.path.join(d, "nginx.conf")
        self.proc = Proc("nginx", nginx_argv(d, "nginx", self._conf(upstream_ports)), d, PROXY_CORE)
        self.procs = [self.proc]
        if not wait_port(self.http):
            raise RuntimeError(f"nginx did not start: {self.proc.log_tail()}")

    def _conf(self, ports):
        servers = "".join(f"    server 127.0.0.1:{p};\n" for p in ports)
        up = f"  upstream backend {{\n{servers}    keepalive 64;\n    keepalive_requests 10000000;\n  }}\n"
        return self.conf_head + up + self.conf_server

    def set_endpoints(self, ports):
        """Rolling update the nginx way: rewrite the upstream and reload (SIGHUP)."""
        _write(self.conf_path, self._conf(ports))
        self.proc.send(signal.SIGHUP)


class Haproxy(System):
    name = "haproxy"

    def __init__(self, d, upstream_ports):
        super().__init__()
        self.d = d
        self.http, self.h2, self.tls = free_port(), free_port(), free_port()
        _, _, pem = make_cert(d)
        self.pem = pem
        self.cfg = os.path.join(d, "haproxy.cfg")
        _write(self.cfg, self._conf(upstream_ports))
        # -W: master-worker, so a reload (SIGUSR2) is how endpoints change in scenario 7.
        self.proc = Proc("haproxy", ["haproxy", "-W", "-db", "-f", self.cfg], d, PROXY_CORE)
        self.procs = [self.proc]
        if not wait_port(self.http):
            raise RuntimeError(f"haproxy did not start: {self.proc.log_tail()}")

    def _conf(self, ports):
        servers = "".join(f"  server s{i} 127.0.0.1:{p}\n" for i, p in enumerate(ports))
        return f"""global
  nbthread 1
  maxconn 8000
  ssl-default-bind-options ssl-min-ver TLSv1.3
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  option http-keep-alive
  http-reuse always
  retries 3
  option redispatch
cache bench
  total-max-size 64
  max-age 3600
frontend fe
  bind 127.0.0.1:{self.http} backlog 4096
  bind 127.0.0.1:{self.h2} proto h2 backlog 4096
  bind 127.0.0.1:{self.tls} ssl crt {self.pem} alpn http/1.1 backlog 4096
  use_backend be_cache if {{ path_beg /cached }}
  default_backend be
backend be
{servers}backend be_cache
  http-request cache-use bench
  http-response cache-store bench
{servers}"""

    def set_endpoints(self, ports):
        _write(self.cfg, self._conf(ports))
        self.proc.send(signal.SIGUSR2)  # master re-execs workers with the new file


class Varnish(System):
    name = "varnish"

    def __init__(self, d, backend_port):
        super().__init__()
        self.http = free_port()
        vcl = os.path.join(d, "bench.vcl")
        _write(vcl, f'vcl 4.1;\nbackend default {{ .host = "127.0.0.1"; .port = "{backend_port}"; }}\n')
        # -j none: no privilege separation, so it runs as the invoking user (CI and root alike).
        # VSL (shared-memory log) cannot be turned off; it is varnish's cheap equivalent.
        argv = ["varnishd", "-F", "-j", "none", "-n", os.path.join(d, "varnish"), "-a", f"127.0.0.1:{self.http}",
                "-f", vcl, "-s", "malloc,64m", "-p", "thread_pools=1", "-p", "thread_pool_min=8",
                "-p", "thread_pool_max=500"]
        self.proc = Proc("varnish", argv, d, PROXY_CORE)
        self.procs = [self.proc]
        if not wait_port(self.http, 20):
            raise RuntimeError(f"varnish did not start: {self.proc.log_tail()}")
        self.unsupported["h2"] = "varnish is compared on the cache scenario only"
        self.unsupported["tls"] = "varnish does not terminate TLS"
