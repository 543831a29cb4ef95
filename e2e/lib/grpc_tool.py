"""Drives e2e/grpc/keel-e2e-grpc: gRPC backends to start and a gRPC client whose JSON
report (status code and message, initial and trailing metadata, replies) the tests read."""
import json
import os
import socket
import subprocess

from harness import BUILD, wait_until

GRPC_TOOL = os.path.join(BUILD, "e2e", "grpc", "keel-e2e-grpc")


def start_grpc(env, name, port, tls=None):
    """A gRPC Echo server named `name` on 127.0.0.1:port; tls=(cert, key) for GRPCS."""
    argv = [GRPC_TOOL, "serve", "--listen", f"127.0.0.1:{port}", "--name", name]
    if tls:
        argv += ["--tls-cert", tls[0], "--tls-key", tls[1]]
    p = env._spawn(f"grpc-{name}", argv)
    wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None,
               what=f"gRPC server {name} on {port}")
    return p


def grpc_call(port, host, method="unary", **kw):
    """One or more calls through 127.0.0.1:port with :authority `host`; kw become flags
    (fail_code=5 → --fail-code 5; repeat, parallel, count, payload_bytes, message)."""
    argv = [GRPC_TOOL, "call", "--target", f"127.0.0.1:{port}", "--authority", host, "--method", method]
    for k, v in kw.items():
        argv += ["--" + k.replace("_", "-"), str(v)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if out.returncode != 0 or not out.stdout.strip():
        raise AssertionError(f"grpc call failed: {out.stderr}")
    return json.loads(out.stdout)
