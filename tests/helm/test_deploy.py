"""deploy/ checks (issue 8): the plain manifests match `helm template` (and the check
notices a drift), and scripts/keel-certgen.sh issues the Secrets those manifests mount."""
import os
import subprocess
import tempfile
import unittest

import yaml

import chart_lib as lib

RENDER = os.path.join(lib.ROOT, "scripts", "render-deploy.sh")
CERTGEN = os.path.join(lib.ROOT, "scripts", "keel-certgen.sh")
DEPLOY = os.path.join(lib.ROOT, "deploy", "keel.yaml")


def run_check(target):
    env = dict(os.environ, KEEL_DEPLOY_FILE=target, HELM=lib.HELM)
    return subprocess.run([RENDER, "--check"], capture_output=True, text=True, env=env)


class Drift(unittest.TestCase):
    def test_deploy_matches_helm_template(self):
        r = run_check(DEPLOY)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_drift_is_detected(self):
        with open(DEPLOY) as f:
            text = f.read()
        self.assertIn("replicas: 2", text)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write(text.replace("replicas: 2", "replicas: 3", 1))
            f.flush()
            r = run_check(f.name)
        self.assertEqual(r.returncode, 1)
        self.assertIn("+  replicas: 2", r.stdout)
        self.assertIn("drifted", r.stderr)


class Certgen(unittest.TestCase):
    def test_secrets_match_what_deploy_mounts(self):
        with open(DEPLOY) as f:
            objs = [o for o in yaml.safe_load_all(f) if o]
        mounted = set()
        for w in lib.workloads(objs):
            for v in w["spec"]["template"]["spec"]["volumes"]:
                if "secret" in v:
                    mounted.add(v["secret"]["secretName"])
        self.assertEqual(mounted, {"keel-controller-config-tls", "keel-dataplane-config-tls"})

        with tempfile.TemporaryDirectory() as d:
            out = subprocess.run([CERTGEN, "--out", d], capture_output=True, text=True, check=True).stdout
            secrets = {s["metadata"]["name"]: s for s in yaml.safe_load_all(out) if s}
            self.assertEqual(set(secrets), mounted)
            for s in secrets.values():
                self.assertEqual(s["metadata"]["namespace"], "keel")
            dp = lib.one(objs, "Deployment", "keel-dataplane")
            server_name = lib.args_of(dp["spec"]["template"]["spec"]["containers"][0])["config-tls-server-name"]
            problems = lib.check_certificates(secrets["keel-controller-config-tls"],
                                              secrets["keel-dataplane-config-tls"], server_name)
            self.assertEqual(problems, [])
            # The client certificate is not a server certificate (least privilege per key).
            r = subprocess.run(["openssl", "verify", "-purpose", "sslserver", "-CAfile", os.path.join(d, "ca.crt"),
                                os.path.join(d, "client.crt")], capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)

    def test_unknown_argument_is_rejected(self):
        r = subprocess.run([CERTGEN, "--bogus"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown argument --bogus", r.stderr)


if __name__ == "__main__":
    lib.require_helm()
    unittest.main(verbosity=2)
