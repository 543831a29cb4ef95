"""Server-side printing: `kubectl get` asks for meta.k8s.io/v1 Tables
(Accept: application/json;as=Table;v=v1;g=meta.k8s.io). Ingress gets its real
columns; other kinds get Name and Age."""

import calendar
import time


def wants_table(accept):
    return "as=Table" in accept and "g=meta.k8s.io" in accept


def _age(ts):
    try:
        created = calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return "<unknown>"
    s = max(0, int(time.time() - created))
    m, h, d = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if d < 8:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    return f"{d}d"


def _col(name, fmt="", desc=""):
    return {"name": name, "type": "string", "format": fmt, "description": desc, "priority": 0}


def _ingress_row(obj):
    spec = obj.get("spec", {})
    hosts = [r.get("host") for r in spec.get("rules", []) or [] if r.get("host")]
    lb = (obj.get("status", {}).get("loadBalancer") or {}).get("ingress") or []
    addrs = [a.get("ip") or a.get("hostname", "") for a in lb]
    return [obj["metadata"]["name"], spec.get("ingressClassName", "<none>"),
            ",".join(hosts) or "*", ",".join(addrs), "80, 443" if spec.get("tls") else "80",
            _age(obj["metadata"].get("creationTimestamp"))]


def _columns(res):
    if res.kind == "Ingress":
        return [_col("Name", "name"), _col("Class"), _col("Hosts"), _col("Address"), _col("Ports"),
                _col("Age")]
    return [_col("Name", "name"), _col("Age")]


def _row(res, obj):
    cells = _ingress_row(obj) if res.kind == "Ingress" else \
        [obj["metadata"]["name"], _age(obj["metadata"].get("creationTimestamp"))]
    return {"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                       "metadata": obj.get("metadata", {})}}


def to_table(res, body, watch=False):
    """A Table for a list, a single object, or one watch event's object."""
    if body.get("kind", "").endswith("List") and "items" in body:
        objs, meta = body["items"], body.get("metadata", {})
    else:
        objs, meta = [body], {"resourceVersion": body.get("metadata", {}).get("resourceVersion", "")}
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
            "columnDefinitions": _columns(res), "rows": [_row(res, o) for o in objs]}
