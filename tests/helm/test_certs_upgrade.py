"""The chart's config-channel certificates across upgrades, against the fake API server
(e2e/fakeapi) so that Helm's `lookup` really runs (`helm template --dry-run=server`):
the Secrets in the cluster are reused, renewed when close to expiry, and renewed when the
renewalToken changes.

The fake serves only the kinds keel reads (no apps/v1, policy, rbac), and Helm maps every
rendered object to a served kind, so the render uses a copy of the chart holding only the
certificate templates (the chart's own files, unchanged) plus a ConfigMap that shows the
checksum annotation the pod templates carry."""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

import chart_lib as lib

FAKEAPI = os.path.join(lib.ROOT, "e2e", "fakeapi", "fakeapi.py")
KUBECTL = lib.find_tool("kubectl")


class CertsAcrossUpgrades(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.dir.cleanup)
        d = cls.dir.name
        cert, key = os.path.join(d, "api.crt"), os.path.join(d, "api.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        cls.api = subprocess.Popen([sys.executable, FAKEAPI, "--port", "0", "--token", "T", "--tls-cert", cert,
                                    "--tls-key", key], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        cls.addClassCleanup(cls.stop_api)  # runs even when setUpClass fails further down
        port = int(cls.api.stdout.readline())
        cls.chart = os.path.join(d, "chart")
        os.makedirs(os.path.join(cls.chart, "templates"))
        for f in ("Chart.yaml", "values.yaml", "templates/_helpers.tpl", "templates/_certs.tpl",
                  "templates/config-tls-secrets.yaml", "templates/validate.yaml"):
            shutil.copy(os.path.join(lib.CHART, f), os.path.join(cls.chart, f))
        with open(os.path.join(cls.chart, "templates", "checksum.yaml"), "w") as f:
            f.write('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checksum\n  annotations:\n'
                    '    {{- include "keel.configTLS.checksum" . | nindent 4 }}\n')
        cls.kubeconfig = os.path.join(d, "kubeconfig")
        with open(cls.kubeconfig, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                       "clusters": [{"name": "f", "cluster": {"server": f"https://127.0.0.1:{port}",
                                                              "certificate-authority": cert}}],
                       "users": [{"name": "u", "user": {"token": "T"}}],
                       "contexts": [{"name": "c", "context": {"cluster": "f", "user": "u"}}]}, f)
        ns = os.path.join(d, "namespace.yaml")
        with open(ns, "w") as f:
            f.write("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: keel\n")
        r = subprocess.run([KUBECTL, "--kubeconfig", cls.kubeconfig, "apply", "-f", ns], capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"kubectl apply namespace: {r.stderr}")

    @classmethod
    def stop_api(cls):
        cls.api.terminate()
        cls.api.wait(timeout=10)
        cls.api.stdout.close()

    def render(self, *args):
        """Secrets and checksum of a render that looks the cluster up, as `helm upgrade` does."""
        objs = lib.render("--dry-run=server", "--kubeconfig", self.kubeconfig, *args, chart=self.chart)
        secrets = {s["metadata"]["name"]: s for s in lib.find(objs, "Secret")}
        self.assertEqual(set(secrets), {"keel-controller-config-tls", "keel-dataplane-config-tls"})
        return secrets, lib.one(objs, "ConfigMap", "checksum")["metadata"]["annotations"]["checksum/config-tls"]

    def apply(self, secrets):
        # What `helm install` records on the objects it owns (it refuses to adopt others).
        for sec in secrets.values():
            sec["metadata"]["annotations"].update({"meta.helm.sh/release-name": "keel",
                                                   "meta.helm.sh/release-namespace": "keel"})
        path = os.path.join(self.dir.name, "secrets.yaml")
        with open(path, "w") as f:
            yaml.safe_dump_all(list(secrets.values()), f)
        r = subprocess.run([KUBECTL, "--kubeconfig", self.kubeconfig, "apply", "-f", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_reuse_expiry_and_token(self):
        first, sum1 = self.render()
        again, _ = self.render()  # nothing installed yet: every render is new material
        self.assertNotEqual(first["keel-dataplane-config-tls"]["data"], again["keel-dataplane-config-tls"]["data"])

        self.apply(first)  # "helm install"
        for _ in range(2):  # "helm upgrade", twice: the installed certificates stay
            kept, sum2 = self.render()
            for name in first:
                self.assertEqual(kept[name]["data"], first[name]["data"], name)
            self.assertEqual(sum2, sum1)

        token, sum3 = self.render("--set", "configChannel.tls.renewalToken=2026-11")
        self.assertNotEqual(token["keel-controller-config-tls"]["data"]["ca.crt"],
                            first["keel-controller-config-tls"]["data"]["ca.crt"])
        self.assertNotEqual(sum3, sum1)  # the pods roll onto the new certificates
        self.assertEqual(token["keel-controller-config-tls"]["metadata"]["annotations"]["keel.dev/renewal-token"], "2026-11")
        self.assertEqual(lib.check_certificates(token["keel-controller-config-tls"], token["keel-dataplane-config-tls"],
                                                "keel-controller.keel.svc"), [])

        # Installed certificates 20 days from expiry (renewBeforeDays is 30): renewed.
        soon = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for s in first.values():
            s["metadata"]["annotations"]["keel.dev/not-after"] = soon
        self.apply(first)
        renewed, _ = self.render()
        self.assertNotEqual(renewed["keel-controller-config-tls"]["data"]["ca.crt"],
                            first["keel-controller-config-tls"]["data"]["ca.crt"])
        # ... while 40 days from expiry they are kept.
        later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for s in first.values():
            s["metadata"]["annotations"]["keel.dev/not-after"] = later
        self.apply(first)
        kept, _ = self.render()
        self.assertEqual(kept["keel-controller-config-tls"]["data"], first["keel-controller-config-tls"]["data"])


if __name__ == "__main__":
    lib.require_helm()
    if not KUBECTL:
        sys.exit(lib.SKIP)
    unittest.main(verbosity=2)
