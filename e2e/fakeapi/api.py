"""The REST semantics of the fake API server for one resource: list (pagination,
selectors), get, create, update (optimistic concurrency), patch (merge, strategic,
JSON, apply), delete, and the /status subresource. Every method returns
(http code, JSON body); the watch stream lives in fakeapi.py."""

import base64
import copy
import json
import random
import time
import uuid

import patch as patches
import resources as R
from store import object_matches, parse_selector

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # what the real name generator draws from


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _without(obj, *keys):
    return {k: v for k, v in obj.items() if k not in keys}


def _comparable(obj):
    """An object minus what the server maintains itself, to detect no-op writes."""
    o = copy.deepcopy(obj)
    meta = o.get("metadata", {})
    for k in ("resourceVersion", "managedFields", "generation"):
        meta.pop(k, None)
    return o


class Api:
    def __init__(self, store):
        self.store = store
        self._cluster_ip = 0

    # --- reads ---

    def list(self, res, ns, query):
        labels = parse_selector(query.get("labelSelector", ""))
        fields = parse_selector(query.get("fieldSelector", ""))
        try:
            limit = int(query.get("limit", "0") or 0)
        except ValueError:
            return R.bad_request(f"invalid limit {query.get('limit')!r}")
        token = query.get("continue", "")
        with self.store.cond:
            list_rv, start = self.store.rv, ""
            if token:
                try:
                    padded = token + "=" * (-len(token) % 4)
                    decoded = json.loads(base64.urlsafe_b64decode(padded))
                    list_rv, start = int(decoded["rv"]), decoded["start"]
                except (ValueError, KeyError, TypeError):
                    return R.bad_request("continue key is not valid: incorrect encoded start resourceVersion")
                if list_rv < self.store.compacted_rv:
                    return R.expired(
                        "The provided continue parameter is too old to display a consistent list result. "
                        "You can start a new list without the continue parameter, or use the continue "
                        "token in this response to retrieve the remainder of the results. Continuing with "
                        "the provided token results in an inconsistent list - objects that were created, "
                        "modified, or deleted between the time the first chunk was returned and now may "
                        "show up in the list.")
            rv_param = query.get("resourceVersion", "")
            if (query.get("resourceVersionMatch") == "Exact" and rv_param.isdigit()
                    and int(rv_param) < self.store.compacted_rv):
                return R.expired("The resourceVersion for the provided list is too old.")
            selected = []
            for item_ns, name, obj in self.store.items(res, ns):
                key = f"{item_ns}/{name}" if res.namespaced else name
                if start and key < start:
                    continue
                if object_matches(obj, labels, fields):
                    selected.append((key, obj))
        meta = {"resourceVersion": str(list_rv)}
        if limit > 0 and len(selected) > limit:
            last_key = selected[limit - 1][0]
            body = json.dumps({"v": "meta.k8s.io/v1", "rv": list_rv, "start": last_key + "\u0000"},
                              separators=(",", ":"))
            meta["continue"] = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
            if not labels and not fields:
                meta["remainingItemCount"] = len(selected) - limit
            selected = selected[:limit]
        items = [_without(o, "kind", "apiVersion") for _, o in selected]
        return 200, {"kind": res.kind + "List", "apiVersion": res.api_version, "metadata": meta,
                     "items": items}

    def get(self, res, ns, name, sub):
        with self.store.cond:
            obj = self.store.get(res, ns, name)
            return (200, obj) if obj else R.not_found(res, name)

    # --- writes ---

    def _namespace_missing(self, res, ns):
        if not res.namespaced:
            return None
        if self.store.get(R.BY_PATH[("", "v1", "namespaces")], "", ns) is None:
            return R.namespace_not_found(ns)
        return None

    def _defaults(self, res, obj):
        if res.kind == "Service":
            spec = obj.setdefault("spec", {})
            spec.setdefault("type", "ClusterIP")
            if spec.get("clusterIP") is None and spec["type"] != "ExternalName":
                self._cluster_ip += 1
                ip = f"10.96.{(self._cluster_ip >> 8) & 255}.{self._cluster_ip & 255}"
                spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
            for p in spec.get("ports", []) or []:
                p.setdefault("protocol", "TCP")
                p.setdefault("targetPort", p.get("port"))
            spec.setdefault("sessionAffinity", "None")
            obj.setdefault("status", {"loadBalancer": {}})
        elif res.kind == "Ingress":
            obj.setdefault("status", {"loadBalancer": {}})
        elif res.kind == "Namespace":
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj["status"] = {"phase": "Active"}
        elif res.kind == "Secret":
            obj.setdefault("type", "Opaque")

    def create(self, res, ns, body, query, manager):
        if not isinstance(body, dict):
            return R.bad_request("the request body must be a JSON object")
        if body.get("kind") not in (None, res.kind):
            return R.bad_request(f"the API version in the data ({body.get('apiVersion')}) does not match "
                                 f"the expected API version ({res.api_version})")
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if res.namespaced:
            if meta.get("namespace", ns) != ns:
                return R.bad_request("the namespace of the provided object does not match the namespace "
                                     "sent on the request")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(random.choice(_NAME_CHARS) for _ in range(5))
        invalid = R.validate(res, obj)
        if invalid:
            return invalid
        with self.store.cond:
            missing = self._namespace_missing(res, ns)
            if missing:
                return missing
            if self.store.get(res, ns, meta["name"]):
                return R.already_exists(res, meta["name"])
            if query.get("dryRun"):
                return 201, obj
            return 201, self._insert(res, obj, body, manager, "Update")

    def _insert(self, res, obj, body, manager, operation):
        meta = obj["metadata"]
        obj["kind"], obj["apiVersion"] = res.kind, res.api_version
        for k in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "generation"):
            meta.pop(k, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        if res.generation:
            meta["generation"] = 1
        meta["resourceVersion"] = "0"  # set by the store; here only for the key order
        # Real objects keep a fixed metadata key order (name, namespace, uid, ...).
        order = ["name", "generateName", "namespace", "uid", "resourceVersion", "generation",
                 "creationTimestamp"]
        obj["metadata"] = {**{k: meta[k] for k in order if k in meta},
                           **{k: v for k, v in meta.items() if k not in order}}
        self._defaults(res, obj)
        patches.record_manager(obj, None, body, manager, operation, res.api_version, "", now_rfc3339())
        return self.store.write(res, "ADDED", obj, None)

    def _replace(self, res, old, new, body, sub, manager, operation, query):
        """Stores `new` over `old` keeping what the server owns. Returns (code, body)."""
        meta, old_meta = new.setdefault("metadata", {}), old["metadata"]
        if sub == "status":
            merged = copy.deepcopy(old)
            merged["status"] = new.get("status", {})
            new = merged
        else:
            for k in ("uid", "creationTimestamp", "namespace", "name", "generation"):
                if k in old_meta:
                    meta[k] = old_meta[k]
                else:
                    meta.pop(k, None)
            if res.status:
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
            new["kind"], new["apiVersion"] = res.kind, res.api_version
        invalid = R.validate(res, new)
        if invalid:
            return invalid
        new["metadata"]["resourceVersion"] = old_meta["resourceVersion"]
        new_mf = new["metadata"].get("managedFields")
        client_set_fields = bool(new_mf) and new_mf != old_meta.get("managedFields")
        if _comparable(new) == _comparable(old) and not client_set_fields:
            return 200, old  # a no-op write: no new resourceVersion, no event
        patches.record_manager(new, old_meta.get("managedFields"), body, manager, operation,
                               res.api_version, sub, now_rfc3339())
        if res.generation and sub != "status" and \
                _without(new, "metadata", "status") != _without(old, "metadata", "status"):
            new["metadata"]["generation"] = old_meta.get("generation", 0) + 1
        if query.get("dryRun"):
            return 200, new
        return 200, self.store.write(res, "MODIFIED", new, old)

    def update(self, res, ns, name, sub, body, query, manager):
        if not isinstance(body, dict):
            return R.bad_request("the request body must be a JSON object")
        body_name = body.get("metadata", {}).get("name", "")
        if body_name != name:
            return R.bad_request(f"the name of the object ({body_name}) does not match the name on the "
                                 f"URL ({name})")
        with self.store.cond:
            old = self.store.get(res, ns, name)
            if old is None:
                return R.not_found(res, name)
            want_rv = body.get("metadata", {}).get("resourceVersion")
            if want_rv and want_rv != old["metadata"]["resourceVersion"]:
                return R.conflict(res, name)
            return self._replace(res, old, copy.deepcopy(body), body, sub, manager, "Update", query)

    def patch(self, res, ns, name, sub, raw, ctype, query, manager):
        ctype = (ctype or "").split(";")[0].strip()
        kinds = {"application/merge-patch+json": patches.merge_patch,
                 "application/strategic-merge-patch+json": patches.strategic_merge_patch,
                 "application/json-patch+json": patches.json_patch,
                 "application/apply-patch+yaml": patches.apply_patch}
        fn = kinds.get(ctype)
        if fn is None:
            return R.unsupported_media_type(ctype)
        try:
            body = patches.decode_body(raw)
            with self.store.cond:
                old = self.store.get(res, ns, name)
                if old is None:
                    if ctype != "application/apply-patch+yaml" or sub:
                        return R.not_found(res, name)
                    obj = copy.deepcopy(body or {})
                    if obj.get("metadata", {}).get("name", name) != name:
                        return R.bad_request("the name of the object does not match the name on the URL")
                    obj.setdefault("metadata", {})["name"] = name
                    code, created = self.create_applied(res, ns, obj, query, manager)
                    return code, created
                new = fn(old, body)
                if not isinstance(new, dict):
                    return R.bad_request("the patch did not produce an object")
                # A resourceVersion the patch sets is a precondition (kubectl's JSON patch
                # that migrates managedFields relies on it).
                want_rv = (new.get("metadata") or {}).get("resourceVersion")
                if want_rv and want_rv != old["metadata"]["resourceVersion"]:
                    return R.conflict(res, name)
                operation = "Apply" if ctype == "application/apply-patch+yaml" else "Update"
                record = body if operation == "Apply" else new
                return self._replace(res, old, new, record, sub, manager, operation, query)
        except patches.PatchError as e:
            return R.status(e.code, "BadRequest" if e.code == 400 else "Invalid", str(e))

    def create_applied(self, res, ns, obj, query, manager):
        meta = obj["metadata"]
        if res.namespaced:
            meta["namespace"] = ns
        invalid = R.validate(res, obj)
        if invalid:
            return invalid
        missing = self._namespace_missing(res, ns)
        if missing:
            return missing
        body = copy.deepcopy(obj)
        if query.get("dryRun"):
            return 201, obj
        return 201, self._insert(res, obj, body, manager, "Apply")

    def delete(self, res, ns, name, body):
        with self.store.cond:
            old = self.store.get(res, ns, name)
            if old is None:
                return R.not_found(res, name)
            pre = (body or {}).get("preconditions") or {} if isinstance(body, dict) else {}
            if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
                return R.conflict(res, name)
            if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
                return R.conflict(res, name)
            if res.kind == "Namespace":
                # No finalizers here: what the namespace held goes at once, then the namespace.
                for other in R.RESOURCES:
                    if other.namespaced:
                        for _, _, obj in self.store.items(other, name):
                            self.store.write(other, "DELETED", obj, obj)
            self.store.write(res, "DELETED", old, old)
        details = {"name": name}
        if res.group:
            details["group"] = res.group
        details.update({"kind": res.plural, "uid": old["metadata"]["uid"]})
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                     "details": details}

    def ensure_namespaces(self, names):
        ns_res = R.BY_PATH[("", "v1", "namespaces")]
        with self.store.cond:
            for n in names:
                if not self.store.get(ns_res, "", n):
                    self._insert(ns_res, {"metadata": {"name": n}}, None, "fakeapi", "Update")
