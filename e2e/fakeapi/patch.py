"""Patch semantics of the fake API server: JSON merge patch (RFC 7386), a reduced
strategic merge patch, JSON patch (RFC 6902), and server-side apply as "merge the
applied object". Also the managedFields bookkeeping kubectl looks at."""

import copy
import json


class PatchError(Exception):
    """A patch that cannot be applied: the handler answers with a Status."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def merge_patch(target, patch):
    """RFC 7386: objects merge recursively, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target, patch):
    """Strategic merge patch, reduced: maps merge like a merge patch and lists are
    replaced (merging lists by key, e.g. ports by "port", is not implemented). The
    directives kubectl sends are honoured or dropped so they never land in objects:
    "$patch": "delete" / "replace", "$retainKeys", "$deleteFromPrimitiveList/<k>",
    "$setElementOrder/<k>" (order only; ignored)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    base = {} if directive == "replace" or not isinstance(target, dict) else copy.deepcopy(target)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        base = {k: v for k, v in base.items() if k in retain}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(base.get(field), list):
                base[field] = [v for v in base[field] if v not in value]
            continue
        if key.startswith("$"):
            continue
        if value is None:
            base.pop(key, None)
            continue
        merged = strategic_merge_patch(base.get(key), value)
        if merged is None:
            base.pop(key, None)
        else:
            base[key] = merged
    return base


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(422, f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, tokens):
    for t in tokens:
        if isinstance(doc, list):
            doc = doc[int(t)]
        elif isinstance(doc, dict):
            doc = doc[t]
        else:
            raise KeyError(t)
    return doc


def _add(doc, tokens, value, replace):
    if not tokens:
        return value
    parent = _walk(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, list):
        if replace:
            parent[int(last)] = value
        elif last == "-":
            parent.append(value)
        else:
            idx = int(last)
            if idx > len(parent):
                raise IndexError(last)
            parent.insert(idx, value)
    elif isinstance(parent, dict):
        if replace and last not in parent:
            raise KeyError(last)
        parent[last] = value
    else:
        raise KeyError(last)
    return doc


def _remove(doc, tokens):
    parent = _walk(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, list):
        return parent.pop(int(last))
    return parent.pop(last)


def json_patch(target, ops):
    """RFC 6902: add, remove, replace, move, copy, test."""
    if not isinstance(ops, list):
        raise PatchError(400, "json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        try:
            kind, tokens = op["op"], _pointer(op["path"])
            if kind == "add":
                doc = _add(doc, tokens, copy.deepcopy(op["value"]), False)
            elif kind == "replace":
                doc = _add(doc, tokens, copy.deepcopy(op["value"]), True)
            elif kind == "remove":
                _remove(doc, tokens)
            elif kind in ("move", "copy"):
                src = _pointer(op["from"])
                value = _remove(doc, src) if kind == "move" else copy.deepcopy(_walk(doc, src))
                doc = _add(doc, tokens, value, False)
            elif kind == "test":
                if _walk(doc, tokens) != op["value"]:
                    raise PatchError(422, f"the server rejected our request due to an error in our "
                                          f"request: testing value {op['path']} failed")
            else:
                raise PatchError(400, f"Unexpected kind: {kind}")
        except PatchError:
            raise
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise PatchError(422, f"the server rejected our request due to an error in our request: "
                                  f"{op.get('op')} operation does not apply: doc is missing path: "
                                  f"{op.get('path')}: {e}")
    return doc


def apply_patch(target, applied):
    """Server-side apply, reduced to merging the applied configuration (no field
    ownership conflicts; lists are replaced)."""
    return merge_patch(target, applied)


def decode_body(raw):
    """Request bodies are JSON (kubectl sends apply-patch+yaml bodies as JSON too)."""
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PatchError(400, f"the request body is not JSON: {e}")


def _fields_v1(value):
    if not isinstance(value, dict):
        return {}
    return {f"f:{k}": _fields_v1(v) for k, v in value.items()}


def fields_of(obj, subresource):
    """The field set a write touched, in FieldsV1 shape (lists are owned whole)."""
    if subresource == "status":
        return {"f:status": _fields_v1(obj.get("status", {}))}
    fields = {}
    meta = obj.get("metadata", {})
    meta_fields = {f"f:{k}": _fields_v1(meta[k]) for k in ("labels", "annotations") if meta.get(k)}
    if meta_fields:
        fields["f:metadata"] = meta_fields
    for k, v in obj.items():
        if k not in ("apiVersion", "kind", "metadata", "status"):
            fields[f"f:{k}"] = _fields_v1(v)
    return fields


def record_manager(obj, old_managed, body, manager, operation, api_version, subresource, now):
    """Upserts this manager's entry in metadata.managedFields, unless the request set
    managedFields itself (kubectl's client-side → server-side apply migration does)."""
    meta = obj.setdefault("metadata", {})
    if meta.get("managedFields") and meta.get("managedFields") != old_managed:
        return
    entries = [e for e in (old_managed or [])
               if not (e.get("manager") == manager and e.get("operation") == operation
                       and e.get("subresource", "") == (subresource or ""))]
    entry = {"manager": manager, "operation": operation, "apiVersion": api_version}
    if operation == "Update":
        entry["time"] = now
    entry["fieldsType"] = "FieldsV1"
    entry["fieldsV1"] = fields_of(body if isinstance(body, dict) else obj, subresource)
    if subresource:
        entry["subresource"] = subresource
    entries.append(entry)
    meta["managedFields"] = entries
