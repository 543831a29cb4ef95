// JSON → typed objects. Every access checks the JSON type first (nlohmann throws on a
// mismatched get<>), and a catch-all at each entry point keeps any exception we missed
// from escaping into a watch thread.
#include "controller/store/parse.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/htpasswd.h"
#include "controller/store/base64.h"

namespace keel::store {
namespace {

using nlohmann::json;

constexpr std::string_view kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

// Reads fields and remembers the first error; callers check ok() once at the end.
class Reader {
 public:
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  void Fail(const std::string& path, std::string_view what) {
    if (error_.empty()) error_ = path + ": " + std::string(what);
  }

  // The member `key` of `obj`, or nullptr when absent or JSON null.
  static const json* Member(const json& obj, std::string_view key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

  const json* Object(const json& obj, std::string_view key, const std::string& path) {
    const json* m = Member(obj, key);
    if (m != nullptr && !m->is_object()) {
      Fail(path, "expected an object");
      return nullptr;
    }
    return m;
  }

  const json* Array(const json& obj, std::string_view key, const std::string& path) {
    const json* m = Member(obj, key);
    if (m != nullptr && !m->is_array()) {
      Fail(path, "expected a list");
      return nullptr;
    }
    return m;
  }

  std::string String(const json& obj, std::string_view key, const std::string& path) {
    const json* m = Member(obj, key);
    if (m == nullptr) return {};
    if (!m->is_string()) {
      Fail(path, "expected a string");
      return {};
    }
    return m->get<std::string>();
  }

  std::optional<int64_t> Int(const json& obj, std::string_view key, const std::string& path) {
    const json* m = Member(obj, key);
    if (m == nullptr) return std::nullopt;
    if (m->is_number_integer()) return m->get<int64_t>();
    if (m->is_number_unsigned() && m->get<uint64_t>() <= uint64_t{std::numeric_limits<int64_t>::max()}) {
      return static_cast<int64_t>(m->get<uint64_t>());
    }
    Fail(path, "expected an integer");
    return std::nullopt;
  }

  std::optional<int32_t> Port(const json& obj, std::string_view key, const std::string& path) {
    auto v = Int(obj, key, path);
    if (!v) return std::nullopt;
    if (*v < 1 || *v > 65535) {
      Fail(path, "port out of range 1-65535");
      return std::nullopt;
    }
    return static_cast<int32_t>(*v);
  }

  std::optional<bool> Bool(const json& obj, std::string_view key, const std::string& path) {
    const json* m = Member(obj, key);
    if (m == nullptr) return std::nullopt;
    if (!m->is_boolean()) {
      Fail(path, "expected true or false");
      return std::nullopt;
    }
    return m->get<bool>();
  }

  std::map<std::string, std::string> StringMap(const json& obj, std::string_view key,
                                               const std::string& path) {
    std::map<std::string, std::string> out;
    const json* m = Object(obj, key, path);
    if (m == nullptr) return out;
    for (auto it = m->begin(); it != m->end(); ++it) {
      if (it.key() == kLastApplied) continue;
      if (!it->is_string()) {
        Fail(path + "." + it.key(), "expected a string (quote it in YAML)");
        continue;
      }
      out.emplace(it.key(), it->get<std::string>());
    }
    return out;
  }

  std::vector<std::string> StringList(const json& obj, std::string_view key, const std::string& path) {
    std::vector<std::string> out;
    const json* a = Array(obj, key, path);
    if (a == nullptr) return out;
    for (size_t i = 0; i < a->size(); ++i) {
      const json& v = (*a)[i];
      if (!v.is_string()) {
        Fail(path + "[" + std::to_string(i) + "]", "expected a string");
        continue;
      }
      out.push_back(v.get<std::string>());
    }
    return out;
  }

  ObjectMeta Meta(const json& object) {
    ObjectMeta meta;
    if (!object.is_object()) {
      Fail("object", "expected a JSON object");
      return meta;
    }
    const json* m = Object(object, "metadata", "metadata");
    if (m == nullptr) {
      Fail("metadata", "missing");
      return meta;
    }
    meta.name = String(*m, "name", "metadata.name");
    if (ok() && meta.name.empty()) Fail("metadata.name", "missing");
    meta.ns = String(*m, "namespace", "metadata.namespace");
    meta.uid = String(*m, "uid", "metadata.uid");
    meta.resource_version = String(*m, "resourceVersion", "metadata.resourceVersion");
    meta.creation_timestamp = String(*m, "creationTimestamp", "metadata.creationTimestamp");
    meta.generation = Int(*m, "generation", "metadata.generation").value_or(0);
    meta.annotations = StringMap(*m, "annotations", "metadata.annotations");
    meta.labels = StringMap(*m, "labels", "metadata.labels");
    return meta;
  }

  IngressBackend Backend(const json& b, const std::string& path) {
    IngressBackend out;
    if (const json* svc = Object(b, "service", path + ".service")) {
      out.service_name = String(*svc, "name", path + ".service.name");
      if (const json* port = Object(*svc, "port", path + ".service.port")) {
        out.port_name = String(*port, "name", path + ".service.port.name");
        out.port_number = Port(*port, "number", path + ".service.port.number").value_or(0);
      }
    }
    if (const json* res = Object(b, "resource", path + ".resource")) {
      out.is_resource = true;
      out.resource_kind = String(*res, "kind", path + ".resource.kind");
      out.resource_name = String(*res, "name", path + ".resource.name");
    }
    return out;
  }

 private:
  std::string error_;
};

std::string Idx(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

template <typename T>
Result<T> Finish(const Reader& r, T value) {
  if (!r.ok()) return Error{r.error()};
  return value;
}

template <typename F>
auto Guard(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return Error{std::string("unexpected JSON shape: ") + e.what()};
  }
}

}  // namespace

bool Equivalent(const ObjectMeta& a, const ObjectMeta& b) {
  return a.ns == b.ns && a.name == b.name && a.uid == b.uid && a.creation_timestamp == b.creation_timestamp &&
         a.generation == b.generation && a.annotations == b.annotations && a.labels == b.labels;
}

Result<ObjectRef> ParseRef(const nlohmann::json& object) {
  return Guard([&]() -> Result<ObjectRef> {
    const json* m = Reader::Member(object, "metadata");
    if (m == nullptr || !m->is_object()) return Error{"metadata: missing"};
    const json* name = Reader::Member(*m, "name");
    if (name == nullptr || !name->is_string() || name->get<std::string>().empty()) {
      return Error{"metadata.name: missing"};
    }
    ObjectRef ref{"", name->get<std::string>()};
    if (const json* ns = Reader::Member(*m, "namespace"); ns != nullptr && ns->is_string()) {
      ref.ns = ns->get<std::string>();
    }
    return ref;
  });
}

Result<Ingress> ParseIngress(const nlohmann::json& object) {
  return Guard([&]() -> Result<Ingress> {
    Reader r;
    Ingress ing;
    ing.meta = r.Meta(object);
    const json* spec = r.Object(object, "spec", "spec");
    if (spec != nullptr) {
      if (const json* cls = Reader::Member(*spec, "ingressClassName")) {
        if (cls->is_string()) {
          ing.spec.ingress_class_name = cls->get<std::string>();
        } else {
          r.Fail("spec.ingressClassName", "expected a string");
        }
      }
      if (const json* db = r.Object(*spec, "defaultBackend", "spec.defaultBackend")) {
        ing.spec.default_backend = r.Backend(*db, "spec.defaultBackend");
      }
      if (const json* rules = r.Array(*spec, "rules", "spec.rules")) {
        for (size_t i = 0; i < rules->size() && r.ok(); ++i) {
          const std::string path = Idx("spec.rules", i);
          const json& jr = (*rules)[i];
          if (!jr.is_object()) {
            r.Fail(path, "expected an object");
            break;
          }
          IngressRule rule;
          rule.host = r.String(jr, "host", path + ".host");
          if (const json* http = r.Object(jr, "http", path + ".http")) {
            rule.has_http = true;
            if (const json* paths = r.Array(*http, "paths", path + ".http.paths")) {
              for (size_t j = 0; j < paths->size() && r.ok(); ++j) {
                const std::string ppath = Idx(path + ".http.paths", j);
                const json& jp = (*paths)[j];
                if (!jp.is_object()) {
                  r.Fail(ppath, "expected an object");
                  break;
                }
                IngressPath p;
                p.path = r.String(jp, "path", ppath + ".path");
                p.path_type = r.String(jp, "pathType", ppath + ".pathType");
                if (const json* b = r.Object(jp, "backend", ppath + ".backend")) {
                  p.backend = r.Backend(*b, ppath + ".backend");
                }
                rule.paths.push_back(std::move(p));
              }
            }
          }
          ing.spec.rules.push_back(std::move(rule));
        }
      }
      if (const json* tls = r.Array(*spec, "tls", "spec.tls")) {
        for (size_t i = 0; i < tls->size() && r.ok(); ++i) {
          const std::string path = Idx("spec.tls", i);
          const json& jt = (*tls)[i];
          if (!jt.is_object()) {
            r.Fail(path, "expected an object");
            break;
          }
          IngressTls t;
          t.hosts = r.StringList(jt, "hosts", path + ".hosts");
          t.secret_name = r.String(jt, "secretName", path + ".secretName");
          ing.spec.tls.push_back(std::move(t));
        }
      }
    }
    if (const json* status = r.Object(object, "status", "status")) {
      if (const json* lb = r.Object(*status, "loadBalancer", "status.loadBalancer")) {
        if (const json* list = r.Array(*lb, "ingress", "status.loadBalancer.ingress")) {
          for (size_t i = 0; i < list->size(); ++i) {
            const std::string path = Idx("status.loadBalancer.ingress", i);
            LoadBalancerIngress e;
            e.ip = r.String((*list)[i], "ip", path + ".ip");
            e.hostname = r.String((*list)[i], "hostname", path + ".hostname");
            ing.status.push_back(std::move(e));
          }
        }
      }
    }
    return Finish(r, std::move(ing));
  });
}

Result<IngressClass> ParseIngressClass(const nlohmann::json& object) {
  return Guard([&]() -> Result<IngressClass> {
    Reader r;
    IngressClass cls;
    cls.meta = r.Meta(object);
    cls.meta.ns.clear();  // cluster-scoped
    if (const json* spec = r.Object(object, "spec", "spec")) {
      cls.controller = r.String(*spec, "controller", "spec.controller");
    }
    auto it = cls.meta.annotations.find("ingressclass.kubernetes.io/is-default-class");
    cls.is_default = it != cls.meta.annotations.end() && it->second == "true";
    return Finish(r, std::move(cls));
  });
}

Result<Service> ParseService(const nlohmann::json& object) {
  return Guard([&]() -> Result<Service> {
    Reader r;
    Service svc;
    svc.meta = r.Meta(object);
    if (const json* spec = r.Object(object, "spec", "spec")) {
      svc.spec.type = r.String(*spec, "type", "spec.type");
      svc.spec.cluster_ip = r.String(*spec, "clusterIP", "spec.clusterIP");
      svc.spec.external_name = r.String(*spec, "externalName", "spec.externalName");
      if (const json* ports = r.Array(*spec, "ports", "spec.ports")) {
        for (size_t i = 0; i < ports->size() && r.ok(); ++i) {
          const std::string path = Idx("spec.ports", i);
          const json& jp = (*ports)[i];
          ServicePort p;
          p.name = r.String(jp, "name", path + ".name");
          p.port = r.Port(jp, "port", path + ".port").value_or(0);
          if (r.ok() && p.port == 0) r.Fail(path + ".port", "missing");
          if (const json* tp = Reader::Member(jp, "targetPort")) {
            if (tp->is_string()) {
              p.target_port_name = tp->get<std::string>();
            } else {
              p.target_port_number = r.Port(jp, "targetPort", path + ".targetPort").value_or(0);
            }
          } else {
            p.target_port_number = p.port;  // the API defaults targetPort to port
          }
          p.protocol = r.String(jp, "protocol", path + ".protocol");
          if (p.protocol.empty()) p.protocol = "TCP";
          p.app_protocol = r.String(jp, "appProtocol", path + ".appProtocol");
          svc.spec.ports.push_back(std::move(p));
        }
      }
    }
    if (svc.spec.type.empty()) svc.spec.type = "ClusterIP";
    return Finish(r, std::move(svc));
  });
}

Result<EndpointSlice> ParseEndpointSlice(const nlohmann::json& object) {
  return Guard([&]() -> Result<EndpointSlice> {
    Reader r;
    EndpointSlice slice;
    slice.meta = r.Meta(object);
    auto label = slice.meta.labels.find("kubernetes.io/service-name");
    if (label != slice.meta.labels.end()) slice.spec.service_name = label->second;
    slice.spec.address_type = r.String(object, "addressType", "addressType");
    if (const json* ports = r.Array(object, "ports", "ports")) {
      for (size_t i = 0; i < ports->size() && r.ok(); ++i) {
        const std::string path = Idx("ports", i);
        const json& jp = (*ports)[i];
        EndpointPort p;
        p.name = r.String(jp, "name", path + ".name");
        p.port = r.Port(jp, "port", path + ".port");
        p.app_protocol = r.String(jp, "appProtocol", path + ".appProtocol");
        slice.spec.ports.push_back(std::move(p));
      }
    }
    if (const json* eps = r.Array(object, "endpoints", "endpoints")) {
      slice.spec.endpoints.reserve(eps->size());
      for (size_t i = 0; i < eps->size() && r.ok(); ++i) {
        const std::string path = Idx("endpoints", i);
        const json& je = (*eps)[i];
        SliceEndpoint e;
        e.addresses = r.StringList(je, "addresses", path + ".addresses");
        if (const json* c = r.Object(je, "conditions", path + ".conditions")) {
          auto ready = r.Bool(*c, "ready", path + ".conditions.ready");
          auto serving = r.Bool(*c, "serving", path + ".conditions.serving");
          auto terminating = r.Bool(*c, "terminating", path + ".conditions.terminating");
          e.ready = ready.value_or(true);
          e.serving = serving.value_or(e.ready);
          e.terminating = terminating.value_or(false);
        }
        e.zone = r.String(je, "zone", path + ".zone");
        if (const json* ref = r.Object(je, "targetRef", path + ".targetRef")) {
          e.target_name = r.String(*ref, "name", path + ".targetRef.name");
        }
        slice.spec.endpoints.push_back(std::move(e));
      }
    }
    return Finish(r, std::move(slice));
  });
}

namespace {

// Opaque Secrets hold every kind of secret (passwords, tokens, private keys); the
// controller only needs password hashes for basic auth. So only those are kept: the
// `auth` key's htpasswd lines, and other keys' values (auth-map) that are hashes.
// Anything else becomes "user:" + kNotAHash (a line with a user) or kNotAHash, so that
// translation can still say which user's entry was refused, and is otherwise dropped.
std::string KeepForBasicAuth(const std::string& key, const std::string& value) {
  if (key != "auth") return htpasswd::Classify(value).ok() ? value : std::string(kNotAHash);
  std::string out;
  std::string_view file = value;
  while (!file.empty()) {
    size_t nl = file.find('\n');
    std::string_view line = file.substr(0, nl);
    file = nl == std::string_view::npos ? std::string_view() : file.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line[0] == '#') continue;
    if (htpasswd::ParseLine(line).ok()) {
      out.append(line);
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
      out.append(line.substr(0, colon)).append(":").append(kNotAHash);
    } else {
      continue;
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace

Result<SecretParse> ParseSecret(const nlohmann::json& object) {
  return Guard([&]() -> Result<SecretParse> {
    Reader r;
    SecretParse out;
    std::string type = r.String(object, "type", "type");
    if (type != "kubernetes.io/tls") {
      auto ref = ParseRef(object);
      if (!ref.ok()) return Error{ref.error()};
      out.ref = std::move(ref.value());
      out.other.type = type.empty() ? "Opaque" : type;
      // Other types are dropped at the door: nothing but the name is read.
      if (out.other.type != "Opaque") return Finish(r, std::move(out));
      if (const json* data = r.Object(object, "data", "data")) {
        for (const auto& [k, v] : data->items()) {
          auto decoded = v.is_string() ? Base64Decode(v.get_ref<const std::string&>()) : std::nullopt;
          if (!decoded) {
            r.Fail("data." + k, "expected a base64 string");
            continue;
          }
          out.other.data[k] = std::move(*decoded);
        }
      }
      if (const json* sd = r.Object(object, "stringData", "stringData")) {
        for (const auto& [k, v] : sd->items()) out.other.data[k] = r.String(*sd, k, "stringData." + k);
      }
      for (auto& [k, v] : out.other.data) v = KeepForBasicAuth(k, v);
      return Finish(r, std::move(out));
    }
    TlsSecret s;
    s.meta = r.Meta(object);
    out.ref = s.meta.ref();
    std::optional<std::string> crt, key;
    if (const json* data = r.Object(object, "data", "data")) {
      for (const char* k : {"tls.crt", "tls.key"}) {
        const json* v = Reader::Member(*data, k);
        if (v == nullptr) continue;
        if (!v->is_string()) {
          r.Fail(std::string("data.") + k, "expected a base64 string");
          continue;
        }
        auto decoded = Base64Decode(v->get_ref<const std::string&>());
        if (!decoded) {
          r.Fail(std::string("data.") + k, "invalid base64");
          continue;
        }
        (std::string_view(k) == "tls.crt" ? crt : key) = std::move(*decoded);
      }
    }
    if (const json* sd = r.Object(object, "stringData", "stringData")) {
      std::string c = r.String(*sd, "tls.crt", "stringData.tls.crt");
      std::string k = r.String(*sd, "tls.key", "stringData.tls.key");
      if (Reader::Member(*sd, "tls.crt") != nullptr) crt = std::move(c);
      if (Reader::Member(*sd, "tls.key") != nullptr) key = std::move(k);
    }
    if (r.ok() && !crt) r.Fail("data.tls.crt", "missing");
    if (r.ok() && !key) r.Fail("data.tls.key", "missing");
    if (!r.ok()) return Error{r.error()};
    s.cert_pem = std::move(*crt);
    s.key_pem = std::move(*key);
    out.tls = std::move(s);
    return out;
  });
}

}  // namespace keel::store
