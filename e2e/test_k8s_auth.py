"""Basic auth in Kubernetes mode: an htpasswd Secret made with `kubectl create secret
generic --from-file=auth=...` (hashes from `openssl passwd -apr1`), an Ingress with
ingress-nginx's auth annotations, and `kubectl apply` of an edited Secret changing who
gets in on both dataplanes. A missing Secret answers 503 with a Warning Event; an
Ingress with auth-url is not served and gets an Event too."""
import base64
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from k8s import K8sTestCase, ingress, wait_until  # noqa: E402

A = "nginx.ingress.kubernetes.io"


def htpasswd(path, users):
    lines = []
    for user, password in users.items():
        h = subprocess.run(["openssl", "passwd", "-apr1", password], capture_output=True, text=True, check=True)
        lines.append(f"{user}:{h.stdout.strip()}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def creds(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


class K8sAuthTest(K8sTestCase):
    def test_secret_edit_changes_who_gets_in(self):
        env = self.world()
        env.backend_service("web", 1)

        def apply_secret(users):
            path = htpasswd(os.path.join(env.dir, "auth"), users)
            env.apply(env.kubectl("create", "secret", "generic", "basic-auth", f"--from-file=auth={path}",
                                  "--dry-run=client", "-o", "json"))

        apply_secret({"alice": "alice-pw"})
        env.apply(ingress("private", rules=[("private.test", [("/", "Prefix", "web")])],
                          annotations={f"{A}/auth-type": "basic", f"{A}/auth-secret": "basic-auth",
                                       f"{A}/auth-realm": "Private"}))
        env.apply(ingress("nosecret", rules=[("nosecret.test", [("/", "Prefix", "web")])],
                          annotations={f"{A}/auth-type": "basic", f"{A}/auth-secret": "absent"}))
        env.apply(ingress("external", rules=[("external.test", [("/", "Prefix", "web")])],
                          annotations={f"{A}/auth-url": "http://oauth2-proxy.auth/oauth2/auth"}))

        def status(dp, host, user=None, password=None):
            return env.get("/", host, dp=dp, headers=creds(user, password) if user else None, timeout=2).status

        for dp in range(2):
            wait_until(lambda: status(dp, "private.test", "alice", "alice-pw") == 200, 15,
                       what=f"alice admitted on dataplane {dp}")
            r = env.get("/", "private.test", dp=dp)
            self.assertEqual(r.status, 401)
            self.assertEqual(r.headers["www-authenticate"], 'Basic realm="Private"')
            self.assertEqual(status(dp, "private.test", "bob", "bob-pw"), 401)
            self.assertEqual(status(dp, "nosecret.test", "alice", "alice-pw"), 503)
            self.assertEqual(status(dp, "external.test"), 404)

        # The Secret is edited with kubectl: bob in, alice out, on every dataplane.
        apply_secret({"bob": "bob-pw"})
        for dp in range(2):
            wait_until(lambda: status(dp, "private.test", "bob", "bob-pw") == 200, 15,
                       what=f"bob admitted on dataplane {dp}")
            self.assertEqual(status(dp, "private.test", "alice", "alice-pw"), 401)

        # Creating the missing Secret opens nosecret.test to its users.
        env.apply(env.kubectl("create", "secret", "generic", "absent",
                              f"--from-file=auth={htpasswd(os.path.join(env.dir, 'auth2'), {'carol': 'c-pw'})}",
                              "--dry-run=client", "-o", "json"))
        wait_until(lambda: status(0, "nosecret.test", "carol", "c-pw") == 200, 15, what="carol admitted")
        self.assertEqual(status(0, "nosecret.test"), 401)

        def warnings_on(name):
            items = env.get_json("events")["items"]
            return {e["reason"] for e in items
                    if e["involvedObject"].get("name") == name and e["type"] == "Warning"}
        self.assertIn("UnsupportedAuthentication", wait_until(lambda: warnings_on("external"), 10,
                                                              what="Event on the auth-url Ingress"))
        self.assertIn("AuthSecretNotFound", wait_until(lambda: warnings_on("nosecret"), 10,
                                                       what="Event on the Ingress whose Secret was missing"))
        self.assertFalse(warnings_on("private"), json.dumps(env.get_json("events")["items"])[:2000])


if __name__ == "__main__":
    unittest.main()
