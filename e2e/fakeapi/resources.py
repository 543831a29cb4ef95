"""The resources the fake API server serves, their discovery documents, and the
Status bodies and validation errors it answers with, shaped like a Kubernetes 1.26
server's (see the captures in data/ and tests/k8s/testdata/)."""

import json
import os
import re
from dataclasses import dataclass

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    generation: bool = False  # the real registry sets metadata.generation
    status: bool = False  # has a /status subresource (status ignored on main PUT)

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self):
        return f"{self.group}/{self.version}/{self.plural}"

    @property
    def qualified(self):
        # "ingresses.networking.k8s.io" or "services", as in real error messages.
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES = [
    Resource("", "v1", "namespaces", "Namespace", False, status=True),
    Resource("", "v1", "services", "Service", True, status=True),
    Resource("", "v1", "secrets", "Secret", True),
    Resource("", "v1", "configmaps", "ConfigMap", True),
    Resource("", "v1", "events", "Event", True),
    Resource("networking.k8s.io", "v1", "ingresses", "Ingress", True, generation=True, status=True),
    Resource("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False, generation=True),
    Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True, generation=True),
    Resource("coordination.k8s.io", "v1", "leases", "Lease", True),
]
BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
BY_KEY = {r.key: r for r in RESOURCES}
SERVED_GV = sorted({(r.group, r.version) for r in RESOURCES})

# Captured resource lists, one per group/version we serve.
_RESOURCE_LIST_FILES = {
    ("", "v1"): "01-api-v1-resources.json",
    ("networking.k8s.io", "v1"): "01-networking-v1-resources.json",
    ("discovery.k8s.io", "v1"): "01-discovery-v1-resources.json",
    ("coordination.k8s.io", "v1"): "01-coordination-v1-resources.json",
}
_OPENAPI_FILES = {
    "api/v1": "api_v1.json",
    "apis/networking.k8s.io/v1": "apis_networking.k8s.io_v1.json",
    "apis/discovery.k8s.io/v1": "apis_discovery.k8s.io_v1.json",
    "apis/coordination.k8s.io/v1": "apis_coordination.k8s.io_v1.json",
}


def _load(name):
    with open(os.path.join(DATA_DIR, name), "rb") as f:
        return json.loads(f.read())


class Discovery:
    """Serves the captured discovery and OpenAPI v3 documents, trimmed to what this
    server implements so that clients never discover a resource that would 404."""

    def __init__(self):
        self.version = _load("01-version.json")
        self.api = _load("01-api.json")
        apis = _load("01-apis.json")
        served_groups = {g for g, _ in SERVED_GV if g}
        apis["groups"] = [g for g in apis["groups"] if g["name"] in served_groups]
        self.apis = apis
        self.resource_lists = {}
        for gv, name in _RESOURCE_LIST_FILES.items():
            doc = _load(name)
            keep = []
            for res in doc["resources"]:
                plural, _, sub = res["name"].partition("/")
                r = BY_PATH.get((gv[0], gv[1], plural))
                if r and (not sub or (sub == "status" and r.status)):
                    keep.append(res)
            doc["resources"] = keep
            self.resource_lists[gv] = doc
        index = _load(os.path.join("openapi-v3", "index.json"))
        index["paths"] = {p: v for p, v in index["paths"].items() if p in _OPENAPI_FILES}
        self.openapi_index = json.dumps(index).encode()
        self._openapi_cache = {}

    def group(self, name):
        for g in self.apis["groups"]:
            if g["name"] == name:
                return dict(g, kind="APIGroup", apiVersion="v1")
        return None

    def openapi(self, path):
        name = _OPENAPI_FILES.get(path)
        if name is None:
            return None
        if name not in self._openapi_cache:
            with open(os.path.join(DATA_DIR, "openapi-v3", name), "rb") as f:
                self._openapi_cache[name] = f.read()
        return self._openapi_cache[name]


def status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return code, body


def _details(res, name):
    d = {"name": name} if name else {}
    if res.group:
        d["group"] = res.group
    d["kind"] = res.plural
    return d


def not_found(res, name):
    return status(404, "NotFound", f'{res.qualified} "{name}" not found', _details(res, name))


def namespace_not_found(ns):
    return status(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})


def already_exists(res, name):
    return status(409, "AlreadyExists", f'{res.qualified} "{name}" already exists', _details(res, name))


def conflict(res, name):
    return status(409, "Conflict",
                  f'Operation cannot be fulfilled on {res.qualified} "{name}": the object has been '
                  "modified; please apply your changes to the latest version and try again",
                  _details(res, name))


def expired(message):
    return status(410, "Expired", message)


def unauthorized():
    return status(401, "Unauthorized", "Unauthorized")


def forbidden(verb, res, ns, path):
    if res is None:
        return status(403, "Forbidden",
                      f'forbidden: User "system:anonymous" cannot {verb} path "{path}"', {})
    where = f'in the namespace "{ns}"' if ns else "at the cluster scope"
    return status(403, "Forbidden",
                  f'{res.qualified} is forbidden: User "system:anonymous" cannot {verb} resource '
                  f'"{res.plural}" in API group "{res.group}" {where}',
                  {"group": res.group, "kind": res.plural} if res.group else {"kind": res.plural})


def bad_request(message):
    return status(400, "BadRequest", message)


def method_not_allowed():
    return status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")


def unsupported_media_type(ctype):
    return status(415, "UnsupportedMediaType",
                  f"the body of the request was in an unknown format - accepted media types include: "
                  "application/json-patch+json, application/merge-patch+json, "
                  "application/apply-patch+yaml")


# --- validation (422), the subset of the real rules that tests exercise ---

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                  "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
                  "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
                  "[a-z0-9])?)*')")


def _invalid_value(field, value, msg):
    return {"reason": "FieldValueInvalid", "message": f'Invalid value: "{value}": {msg}', "field": field}


def _required(field, msg):
    return {"reason": "FieldValueRequired", "message": f"Required value: {msg}", "field": field}


def validate(res, obj):
    """Returns None or a 422 Status (code, body) listing every cause, like the real server."""
    causes = []
    name = obj.get("metadata", {}).get("name", "")
    if not name:
        causes.append(_required("metadata.name", "name or generateName is required"))
    elif len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        causes.append(_invalid_value("metadata.name", name, _SUBDOMAIN_MSG))
    if res.kind == "Ingress":
        for i, rule in enumerate(obj.get("spec", {}).get("rules", []) or []):
            host = rule.get("host", "")
            bare = host[2:] if host.startswith("*.") else host
            if host and not _DNS1123_SUBDOMAIN.match(bare):
                causes.append(_invalid_value(f"spec.rules[{i}].host", host, _SUBDOMAIN_MSG))
            for j, p in enumerate((rule.get("http") or {}).get("paths", []) or []):
                field = f"spec.rules[{i}].http.paths[{j}]"
                if not p.get("pathType"):
                    causes.append(_required(field + ".pathType", "pathType must be specified"))
                path = p.get("path", "")
                if path and not path.startswith("/"):
                    causes.append(_invalid_value(field + ".path", path, "must be an absolute path"))
    if not causes:
        return None
    # The 1.26 server names Ingress by its legacy group in this message (see 13-invalid-422).
    group = "extensions" if res.kind == "Ingress" else res.group
    qualified = f"{res.kind}.{group}" if group else res.kind
    texts = [f'{c["field"]}: {c["message"]}' for c in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details = {"name": name, "group": group, "kind": res.kind, "causes": causes} if group else \
        {"name": name, "kind": res.kind, "causes": causes}
    return status(422, "Invalid", f'{qualified} "{name}" is invalid: {joined}', details)
