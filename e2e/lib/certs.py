"""Test certificates minted with the openssl CLI at run time: self-signed server
certificates for Secrets, and a small CA with leaves for the mutual-TLS config channel."""
import os
import subprocess
import textwrap

_CONF = """
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = {sans}
"""


def mint(directory, name, cn, sans, rsa=False, ca=None):
    """Writes NAME.crt / NAME.key under `directory` and returns (cert_path, key_path).
    `sans` like "DNS:a.test,IP:127.0.0.1"; empty makes a CA. `ca`: (cert, key) to sign with."""
    conf = os.path.join(directory, name + ".cnf")
    with open(conf, "w") as f:
        f.write(textwrap.dedent(_CONF).format(sans=sans or "DNS:unused.invalid"))
    crt, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    argv = ["openssl", "req", "-x509", "-nodes", "-days", "2", "-config", conf, "-subj", f"/CN={cn}",
            "-extensions", "leaf" if sans else "ca", "-keyout", key, "-out", crt]
    argv += ["-newkey", "rsa:2048"] if rsa else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    if ca:
        argv += ["-CA", ca[0], "-CAkey", ca[1]]
    subprocess.run(argv, check=True, capture_output=True)
    return crt, key


def read(path):
    with open(path) as f:
        return f.read()


def tls_secret(name, crt, key, namespace="default"):
    """A kubernetes.io/tls Secret document with the PEMs inline (stringData)."""
    def block(text):
        return "\n".join("    " + line for line in text.strip().splitlines())
    return (f"apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
            f"type: kubernetes.io/tls\nstringData:\n  tls.crt: |\n{block(read(crt))}\n"
            f"  tls.key: |\n{block(read(key))}\n")
