"""Basic auth end to end (manifests mode): htpasswd Secrets made by real tools
(`openssl passwd -apr1`, Python's crypt for bcrypt, `openssl dgst` for {SHA}), the
controller translating ingress-nginx's auth annotations, the dataplane answering 401 or
forwarding, over HTTP/1.1 and h2c with `curl -u`. Also: an edit of the Secret changes
who gets in; a missing Secret answers 503; auth-url makes the Ingress unserved (404),
never open."""
import base64
import os
import subprocess
import sys
import unittest
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import DEFAULT_CLASS, Env, request, wait_until  # noqa: E402

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # stdlib until Python 3.13; bcrypt through libxcrypt
except ImportError:
    crypt = None

A = "nginx.ingress.kubernetes.io"


def apr1(password):
    return subprocess.run(["openssl", "passwd", "-apr1", password], capture_output=True, text=True,
                          check=True).stdout.strip()


def sha(password):
    digest = subprocess.run(["openssl", "dgst", "-sha1", "-binary"], input=password.encode(), capture_output=True,
                            check=True).stdout
    return "{SHA}" + base64.b64encode(digest).decode()


def bcrypt(password):
    if crypt is None:  # no crypt module: SHA-512-crypt, also a crypt_r format
        return subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                              check=True).stdout.strip()
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10))


def secret(name, data):
    body = "\n".join(f"  {k}: '{v}'" for k, v in data.items())
    return f"""
apiVersion: v1
kind: Secret
metadata: {{name: {name}, namespace: default}}
type: Opaque
stringData:
{body}
"""


def ingress(name, host, annotations):
    ann = "\n".join(f'    {A}/{k}: "{v}"' for k, v in annotations.items())
    return f"""
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: default
  annotations:
{ann}
spec:
  rules:
    - host: {host}
      http:
        paths:
          - {{path: /, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}
"""


def curl(port, host, *args):
    """(status, headers text) of a GET through curl."""
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-D", "-", "-H", f"Host: {host}", *args,
                          f"http://127.0.0.1:{port}/x"], capture_output=True, text=True, timeout=30)
    first = out.stdout.split("\r\n", 1)[0]
    assert first.startswith("HTTP/"), (out.stdout, out.stderr)
    return int(first.split()[1]), out.stdout.lower()


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = env = Env("auth")
        try:
            web = env.start_echo("echo-web")
            env.write("services.yaml", env.service("web", [web]))
            env.write("secrets.yaml", "---".join([
                secret("htpasswd", {"auth": f"alice:{bcrypt('alice-pw')}\\nbob:{apr1('bob-pw')}\\n"}),
                secret("usermap", {"carol": sha("carol-pw")}),
            ]).replace("'", '"'))
            env.write("ingress.yaml", DEFAULT_CLASS + "---".join([
                ingress("basic", "basic.test", {"auth-type": "basic", "auth-secret": "htpasswd",
                                                "auth-realm": "Staff only"}),
                ingress("map", "map.test", {"auth-type": "basic", "auth-secret": "default/usermap",
                                            "auth-secret-type": "auth-map"}),
                ingress("missing", "missing.test", {"auth-type": "basic", "auth-secret": "nope"}),
                ingress("oauth", "oauth.test", {"auth-url": "http://oauth2-proxy.auth/oauth2/auth"}),
                ingress("open", "open.test", {"enable-cors": "true"}),
            ]))
            env.start_controller()
            cls.dp = env.start_dataplane(workers=1)
            env.wait_ready(cls.dp)
        except BaseException:
            env.stop_all()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.stop_all()

    def test_http1_curl_u(self):
        port = self.dp.http_port
        status, head = curl(port, "basic.test")
        self.assertEqual(status, 401)
        self.assertIn('www-authenticate: basic realm="staff only"', head)
        self.assertEqual(curl(port, "basic.test", "-u", "alice:alice-pw")[0], 200)  # bcrypt
        self.assertEqual(curl(port, "basic.test", "-u", "bob:bob-pw")[0], 200)  # apr1
        self.assertEqual(curl(port, "basic.test", "-u", "alice:bob-pw")[0], 401)
        self.assertEqual(curl(port, "basic.test", "-u", "mallory:x")[0], 401)
        self.assertEqual(curl(port, "map.test", "-u", "carol:carol-pw")[0], 200)  # auth-map, {SHA}
        self.assertEqual(curl(port, "map.test", "-u", "alice:alice-pw")[0], 401)
        # The backend sees the request with its Authorization (nginx passes it on).
        r = request(port, "/x", "basic.test", headers=basic("alice", "alice-pw"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["headers"]["authorization"], basic("alice", "alice-pw")["Authorization"])
        # Malformed credentials: other schemes, bad base64, no ':'.
        for value in ["Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"alice").decode(), "Basic"]:
            r = request(port, "/x", "basic.test", headers={"Authorization": value})
            self.assertEqual(r.status, 401, value)
            self.assertNotIn("x-instance", r.headers)  # never reached the backend
        # Keep-alive: several requests on one connection, all admitted.
        urls = []
        for i in range(5):
            urls += ["-o", "/dev/null", f"http://127.0.0.1:{port}/k{i}"]
        out = subprocess.run(["curl", "-sS", "-w", "%{http_code} %{num_connects}\\n",
                              "-u", "alice:alice-pw", "-H", "Host: basic.test"] + urls,
                             capture_output=True, text=True, timeout=30)
        lines = out.stdout.split()
        self.assertEqual(lines[0::2], ["200"] * 5, out.stderr)
        self.assertEqual(lines[1::2], ["1", "0", "0", "0", "0"])  # one connection reused

    def test_h2c_curl_u(self):
        port = self.dp.http_port
        status, head = curl(port, "basic.test", "--http2-prior-knowledge")
        self.assertEqual(status, 401)
        self.assertIn('www-authenticate: basic realm="staff only"', head)
        self.assertTrue(head.startswith("http/2 401"), head)
        self.assertEqual(curl(port, "basic.test", "--http2-prior-knowledge", "-u", "bob:bob-pw")[0], 200)
        self.assertEqual(curl(port, "basic.test", "--http2-prior-knowledge", "-u", "bob:wrong")[0], 401)
        self.assertEqual(curl(port, "map.test", "--http2-prior-knowledge", "-u", "carol:carol-pw")[0], 200)

    def test_fail_closed(self):
        port = self.dp.http_port
        # Basic auth that cannot be enforced (Secret missing): 503, whatever credentials.
        self.assertEqual(curl(port, "missing.test")[0], 503)
        self.assertEqual(curl(port, "missing.test", "-u", "alice:alice-pw")[0], 503)
        # auth-url is not implemented: the Ingress is not served at all.
        r = request(port, "/x", "oauth.test")
        self.assertEqual(r.status, 404)
        self.assertNotIn("x-instance", r.headers)
        self.assertEqual(curl(port, "open.test")[0], 200)  # the rest is still served
        log = self.env.log("controller")
        self.assertIn("UnsupportedAuthentication", log)
        self.assertIn("AuthSecretNotFound", log)
        # The admin config dump names the users but never carries their hashes.
        dump = self.env.admin(self.dp, "/config_dump")
        users = {vh["name"]: vh["routes"][0].get("policy", {}).get("basic_auth_users")
                 for vh in dump.json()["virtual_hosts"]}
        self.assertEqual(users["basic.test"], ["alice:<redacted>", "bob:<redacted>"])
        self.assertNotIn(b"$apr1$", dump.body)
        self.assertNotIn(b"{SHA}", dump.body)

    def test_zz_secret_edit_changes_who_gets_in(self):
        # Runs last (name order): it rewrites the Secret the other tests use.
        port = self.dp.http_port
        self.assertEqual(curl(port, "map.test", "-u", "carol:carol-pw")[0], 200)
        self.env.write("secrets.yaml", "---".join([
            secret("htpasswd", {"auth": f"alice:{bcrypt('alice-pw')}\\nbob:{apr1('bob-pw')}\\n"}),
            secret("usermap", {"dave": sha("dave-pw")}),
        ]).replace("'", '"'))
        wait_until(lambda: curl(port, "map.test", "-u", "dave:dave-pw")[0] == 200, 15, what="dave admitted")
        self.assertEqual(curl(port, "map.test", "-u", "carol:carol-pw")[0], 401)


if __name__ == "__main__":
    unittest.main()
