// ObjectSink: where a source of Kubernetes objects (the API watch in controller/k8s,
// or the manifests folder) delivers them. Objects arrive as the API's JSON; the sink
// decides what to keep (typed stores keep only what translation reads).
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace keel::store {

enum class Kind { Ingress, IngressClass, Service, EndpointSlice, Secret };

inline constexpr Kind kAllKinds[] = {Kind::Ingress, Kind::IngressClass, Kind::Service, Kind::EndpointSlice,
                                     Kind::Secret};

// "Ingress", "IngressClass", ... as in an object's "kind" field.
std::string_view KindName(Kind kind);

// One change of a batch: `object` set → add or modify it; null → delete ns/name.
struct SinkChange {
  Kind kind;
  std::shared_ptr<const nlohmann::json> object;
  std::string ns;
  std::string name;
};

class ObjectSink {
 public:
  virtual ~ObjectSink() = default;
  // The complete current set of objects of `kind` (after a list or relist): objects
  // not in `objects` are gone.
  virtual void Replace(Kind kind, const std::vector<nlohmann::json>& objects) = 0;
  // An object was added or modified (watch ADDED / MODIFIED).
  virtual void Upsert(Kind kind, const nlohmann::json& object) = 0;
  // An object was deleted (watch DELETED). `ns` is empty for cluster-scoped kinds.
  virtual void Remove(Kind kind, const std::string& ns, const std::string& name) = 0;
  // Changes that belong together (one scan of a manifests folder), in order. The
  // default applies them one by one; the Store applies them as one step, so that no
  // view sees half (a renamed file's objects are never briefly missing).
  virtual void Apply(const std::vector<SinkChange>& changes) {
    for (const SinkChange& c : changes) {
      if (c.object) {
        Upsert(c.kind, *c.object);
      } else {
        Remove(c.kind, c.ns, c.name);
      }
    }
  }
};

}  // namespace keel::store
