"""Helpers for the chart tests: find helm, render the chart, and check rendered objects.

The checks are plain functions that return a list of problems (empty = fine), so the
tests can also run them against deliberately broken objects and prove they can fail.
"""
import base64
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHART = os.path.join(ROOT, "helm", "keel")
SKIP = 77  # CTest SKIP_RETURN_CODE: only when helm is missing (scripts/install-deps.sh fetches it)


def find_tool(name):
    """$KEEL_<NAME>, then .cache/tools/bin of this checkout, then of the main checkout
    when this is a git worktree (worktrees share it), then PATH."""
    env = os.environ.get("KEEL_" + name.upper())
    candidates = [env] if env else []
    candidates.append(os.path.join(ROOT, ".cache", "tools", "bin", name))
    try:
        common = subprocess.run(["git", "-C", ROOT, "rev-parse", "--path-format=absolute", "--git-common-dir"],
                                capture_output=True, text=True, check=True).stdout.strip()
        candidates.append(os.path.join(os.path.dirname(common), ".cache", "tools", "bin", name))
    except (OSError, subprocess.CalledProcessError):
        pass
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    return shutil.which(name)


HELM = find_tool("helm")


def require_helm():
    if not HELM:
        print("helm not found: run scripts/install-deps.sh (it puts helm in .cache/tools/bin)", file=sys.stderr)
        sys.exit(SKIP)


def helm(*args, check=True):
    r = subprocess.run([HELM, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def render(*args, namespace="keel", release="keel", chart=CHART):
    """`helm template` → list of objects (empty documents dropped)."""
    out = helm("template", release, chart, "--namespace", namespace, *args).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def find(objs, kind, name=None):
    return [o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def one(objs, kind, name):
    found = find(objs, kind, name)
    if len(found) != 1:
        raise AssertionError(f"want exactly one {kind}/{name}, got {len(found)}")
    return found[0]


def workloads(objs):
    return [o for o in objs if o["kind"] in ("Deployment", "DaemonSet")]


def args_of(container):
    """--flag=value arguments as a dict ({flag: value}, True for a bare flag)."""
    out = {}
    for a in container.get("args", []):
        key, sep, value = a[2:].partition("=")
        out[key] = value if sep else True
    return out


# ---- RBAC ---------------------------------------------------------------------------

def rules_bound_to(objs, sa_name, sa_namespace):
    """Every (scope, apiGroup, resource, verb, resourceName) the ServiceAccount is granted.
    scope is "cluster" or the namespace of a RoleBinding."""
    roles = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o
             for o in objs if o["kind"] in ("Role", "ClusterRole")}
    granted = set()
    for b in objs:
        if b["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        if not any(s.get("kind") == "ServiceAccount" and s["name"] == sa_name and s.get("namespace") == sa_namespace
                   for s in b.get("subjects", [])):
            continue
        scope = "cluster" if b["kind"] == "ClusterRoleBinding" else b["metadata"]["namespace"]
        ref = b["roleRef"]
        role_ns = None if ref["kind"] == "ClusterRole" else b["metadata"]["namespace"]
        role = roles.get((ref["kind"], role_ns, ref["name"]))
        if role is None:
            granted.add((scope, "MISSING-ROLE", ref["name"], "", ""))
            continue
        for r in role.get("rules", []):
            for g in r.get("apiGroups", []):
                for res in r.get("resources", []):
                    for v in r.get("verbs", []):
                        for n in r.get("resourceNames", [""]):
                            granted.add((scope, g, res, v, n))
    return granted


def expected_controller_rules(object_scope, lease_namespace, election_id):
    """What issue 8 lists: read Ingress/IngressClass/Service/EndpointSlice/Secrets, update
    ingresses/status, create/patch Events, and the Lease."""
    want = {("cluster", "networking.k8s.io", "ingressclasses", v, "") for v in ("get", "list", "watch")}
    for group, res in (("networking.k8s.io", "ingresses"), ("", "services"),
                       ("discovery.k8s.io", "endpointslices"), ("", "secrets")):
        want |= {(object_scope, group, res, v, "") for v in ("get", "list", "watch")}
    want.add((object_scope, "networking.k8s.io", "ingresses/status", "update", ""))
    want |= {(object_scope, "", "events", v, "") for v in ("create", "patch")}
    want.add((lease_namespace, "coordination.k8s.io", "leases", "create", ""))
    want |= {(lease_namespace, "coordination.k8s.io", "leases", v, election_id) for v in ("get", "update")}
    return want


# ---- pods ----------------------------------------------------------------------------

def check_security(workload):
    """Non-root, read-only root FS, no privilege escalation, all capabilities dropped (only
    NET_BIND_SERVICE may come back, and only for a port below 1024), seccomp RuntimeDefault."""
    problems = []
    name = f'{workload["kind"]}/{workload["metadata"]["name"]}'
    pod = workload["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    for c in pod["containers"]:
        sc = c.get("securityContext", {})
        where = f"{name} container {c['name']}"
        if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
            problems.append(f"{where}: runAsNonRoot not set")
        if sc.get("runAsUser", psc.get("runAsUser")) in (0, None):
            problems.append(f"{where}: no non-zero runAsUser")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: readOnlyRootFilesystem is not true")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation is not false")
        if sc.get("privileged"):
            problems.append(f"{where}: privileged")
        caps = sc.get("capabilities", {})
        if caps.get("drop") != ["ALL"]:
            problems.append(f"{where}: capabilities.drop is {caps.get('drop')}, want [ALL]")
        low = any(p["containerPort"] < 1024 for p in c.get("ports", []))
        want_add = ["NET_BIND_SERVICE"] if low else []
        if sorted(caps.get("add", [])) != want_add:
            problems.append(f"{where}: capabilities.add is {caps.get('add', [])}, want {want_add}")
        seccomp = sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
        if seccomp != "RuntimeDefault":
            problems.append(f"{where}: seccompProfile {seccomp}, want RuntimeDefault")
        for probe in ("livenessProbe", "readinessProbe"):
            if probe not in c:
                problems.append(f"{where}: no {probe}")
        if not c.get("resources", {}).get("requests"):
            problems.append(f"{where}: no resource requests")
    return problems


def check_no_token(objs, workload):
    """The dataplane can reach no Kubernetes credential: no token automount (pod and
    ServiceAccount), no projected token volume, no binding to its ServiceAccount."""
    problems = []
    pod = workload["spec"]["template"]["spec"]
    sa_name = pod.get("serviceAccountName", "default")
    ns = workload["metadata"]["namespace"]
    if pod.get("automountServiceAccountToken") is not False:
        problems.append("dataplane pod: automountServiceAccountToken is not false")
    sas = [o for o in find(objs, "ServiceAccount", sa_name) if o["metadata"]["namespace"] == ns]
    if len(sas) != 1 or sas[0].get("automountServiceAccountToken") is not False:
        problems.append(f"dataplane ServiceAccount {sa_name}: missing or automountServiceAccountToken not false")
    for v in pod.get("volumes", []):
        for src in v.get("projected", {}).get("sources", []):
            if "serviceAccountToken" in src:
                problems.append(f"dataplane volume {v['name']}: projects a service account token")
    granted = rules_bound_to(objs, sa_name, ns)
    if granted:
        problems.append(f"dataplane ServiceAccount is granted {sorted(granted)}")
    return problems


# ---- certificates --------------------------------------------------------------------

def check_certificates(controller_secret, dataplane_secret, server_name):
    """The Helm-generated pair chains to one CA; the server certificate names the host the
    dataplanes verify; the client certificate is valid for client auth."""
    problems = []
    with tempfile.TemporaryDirectory() as d:
        files = {}
        for tag, secret in (("server", controller_secret), ("client", dataplane_secret)):
            for key in ("ca.crt", "tls.crt", "tls.key"):
                path = os.path.join(d, f"{tag}-{key}")
                with open(path, "wb") as f:
                    f.write(base64.b64decode(secret["data"][key]))
                files[(tag, key)] = path
        cas = []
        for tag in ("server", "client"):
            with open(files[(tag, "ca.crt")], "rb") as f:
                cas.append(f.read())
        if cas[0] != cas[1]:
            problems.append("controller and dataplane Secrets carry different CAs")
        for tag, purpose in (("server", "sslserver"), ("client", "sslclient")):
            r = subprocess.run(["openssl", "verify", "-purpose", purpose, "-CAfile", files[(tag, "ca.crt")],
                                files[(tag, "tls.crt")]], capture_output=True, text=True)
            if r.returncode != 0:
                problems.append(f"{tag} certificate does not verify for {purpose}: {r.stdout}{r.stderr}")
        r = subprocess.run(["openssl", "verify", "-verify_hostname", server_name, "-CAfile",
                            files[("server", "ca.crt")], files[("server", "tls.crt")]], capture_output=True, text=True)
        if r.returncode != 0:
            problems.append(f"server certificate is not valid for {server_name}: {r.stdout}{r.stderr}")
    return problems
