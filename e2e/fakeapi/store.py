"""Object storage of the fake API server: one global, monotonically increasing
resourceVersion (like etcd's revision), a bounded event history for watches that
resume from an older resourceVersion, live watcher queues, label/field selectors,
and an optional state file that survives restarts (the history does not, exactly
as a real API server's watch cache after a restart)."""

import collections
import copy
import json
import os
import threading

Event = collections.namedtuple("Event", "rv res type old new")


class Watcher:
    def __init__(self, res, namespace):
        self.res, self.namespace = res, namespace
        self.queue = collections.deque()
        self.drop = False  # abort the connection without the final chunk
        self.expire = False  # end with an ERROR 410 Expired event
        self.sock = None


class Store:
    def __init__(self, history, state_file=None):
        self.cond = threading.Condition(threading.RLock())
        self.rv = 0
        self.objects = {}  # (res.key, namespace, name) -> object
        self.history = collections.deque()
        self.history_max = max(0, history)
        self.compacted_rv = 0  # every event with rv <= this is gone from history
        self.watchers = set()
        self.state_file = state_file
        if state_file and os.path.exists(state_file):
            with open(state_file) as f:
                state = json.load(f)
            self.rv = int(state["rv"])
            for key, obj in state["objects"]:
                m = obj["metadata"]
                self.objects[(key, m.get("namespace", ""), m["name"])] = obj
            self.compacted_rv = self.rv

    def _save(self):
        if not self.state_file:
            return
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"rv": self.rv, "objects": [[k[0], o] for k, o in self.objects.items()]}, f)
        os.replace(tmp, self.state_file)

    def get(self, res, ns, name):
        return self.objects.get((res.key, ns, name))

    def items(self, res, ns):
        """Current objects of `res` (in `ns` if given), in etcd key order."""
        out = [(k[1], k[2], o) for k, o in self.objects.items()
               if k[0] == res.key and (not ns or k[1] == ns)]
        out.sort(key=lambda t: (t[0], t[1]))
        return out

    def write(self, res, event_type, obj, old):
        """Stores (or, for DELETED, removes) `obj` at the next resourceVersion and
        fans the event out. Call with self.cond held."""
        self.rv += 1
        # kind and apiVersion lead, as in every object a real server returns.
        obj = {"kind": res.kind, "apiVersion": res.api_version,
               **{k: copy.deepcopy(v) for k, v in obj.items() if k not in ("kind", "apiVersion")}}
        obj["metadata"]["resourceVersion"] = str(self.rv)
        m = obj["metadata"]
        key = (res.key, m.get("namespace", ""), m["name"])
        if event_type == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        ev = Event(self.rv, res.key, event_type, old, obj)
        if self.history_max:
            self.history.append(ev)
            while len(self.history) > self.history_max:
                self.compacted_rv = self.history.popleft().rv
        else:
            self.compacted_rv = self.rv
        for w in self.watchers:
            if w.res.key == res.key and (not w.namespace or w.namespace == key[1]):
                w.queue.append(ev)
        self._save()
        self.cond.notify_all()
        return obj

    def compact(self):
        with self.cond:
            self.history.clear()
            self.compacted_rv = self.rv

    def start_watch(self, res, ns, since):
        """Registers a watcher. `since` None means "from now, after synthetic ADDED
        events for what exists". Returns (watcher, initial events) or (None, None)
        when `since` is older than the retained history (the caller sends 410)."""
        with self.cond:
            w = Watcher(res, ns)
            if since is None:
                initial = [Event(self.rv, res.key, "ADDED", None, o) for _, _, o in self.items(res, ns)]
            else:
                if since < self.compacted_rv:
                    return None, None
                initial = [e for e in self.history if e.rv > since and e.res == res.key and
                           (not ns or e.new["metadata"].get("namespace", "") == ns)]
            self.watchers.add(w)
            return w, initial

    def stop_watch(self, w):
        with self.cond:
            self.watchers.discard(w)

    def signal_watchers(self, drop=False, expire=False):
        with self.cond:
            for w in list(self.watchers):
                w.drop = w.drop or drop
                w.expire = w.expire or expire
            self.cond.notify_all()
            return len(self.watchers)


# --- selectors (labelSelector / fieldSelector query parameters) ---

def _split_terms(text):
    terms, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        terms.append(cur.strip())
    return terms


def parse_selector(text):
    """Returns a list of (key, op, values); op in =, !=, in, notin, exists, !exists."""
    out = []
    for term in _split_terms(text or ""):
        low = term.replace(" ", "")
        if " notin " in term or " in " in term:
            key, op, rest = term.replace(" notin ", "\0notin\0").replace(" in ", "\0in\0").split("\0")
            values = [v.strip() for v in rest.strip().strip("()").split(",") if v.strip()]
            out.append((key.strip(), op, values))
        elif "!=" in low:
            k, v = low.split("!=", 1)
            out.append((k, "!=", [v]))
        elif "==" in low or "=" in low:
            k, v = low.split("==", 1) if "==" in low else low.split("=", 1)
            out.append((k, "=", [v]))
        elif low.startswith("!"):
            out.append((low[1:], "!exists", []))
        else:
            out.append((low, "exists", []))
    return out


def _matches(reqs, lookup):
    for key, op, values in reqs:
        present, value = lookup(key)
        if op == "=" and not (present and value == values[0]):
            return False
        if op == "!=" and present and value == values[0]:
            return False
        if op == "in" and not (present and value in values):
            return False
        if op == "notin" and present and value in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
    return True


def object_matches(obj, labels, fields):
    if obj is None:
        return False
    meta = obj.get("metadata", {})
    obj_labels = meta.get("labels") or {}

    def label(k):
        return (k in obj_labels, obj_labels.get(k))

    def field(k):
        node = obj
        for part in k.split("."):
            if not isinstance(node, dict) or part not in node:
                return (True, "")  # unset fields compare as empty, like the real server
            node = node[part]
        return (True, str(node))

    return _matches(labels, label) and _matches(fields, field)
