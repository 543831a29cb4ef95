// Store implementation: per-kind copy-on-write maps (see store.h for why), parse-once
// on write, no-op updates dropped so that our own status writes do not retrigger
// translation.
#include "controller/store/store.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/log.h"
#include "controller/store/parse.h"

namespace keel::store {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::Ingress:
      return "Ingress";
    case Kind::IngressClass:
      return "IngressClass";
    case Kind::Service:
      return "Service";
    case Kind::EndpointSlice:
      return "EndpointSlice";
    case Kind::Secret:
      return "Secret";
  }
  return "Unknown";
}

namespace {

// A map shared with views until the next write clones it.
template <typename M>
class Cow {
 public:
  Cow() : p_(std::make_shared<M>()) {}
  const M& get() const { return *p_; }
  M& mut() {
    if (shared_) {
      p_ = std::make_shared<M>(*p_);
      shared_ = false;
    }
    return *p_;
  }
  std::shared_ptr<const M> share() {
    shared_ = true;
    return p_;
  }

 private:
  std::shared_ptr<M> p_;
  bool shared_ = false;
};

bool Namespaced(Kind kind) { return kind != Kind::IngressClass; }

void NormalizeRef(Kind kind, ObjectRef* ref) {
  if (!Namespaced(kind)) {
    ref->ns.clear();
  } else if (ref->ns.empty()) {
    ref->ns = "default";
  }
}

template <typename T>
bool PutObject(Cow<ObjectMap<T>>& cow, const ObjectRef& ref, std::shared_ptr<const T> obj) {
  auto it = cow.get().find(ref);
  bool changed = it == cow.get().end() || !Equivalent(*it->second, *obj);
  cow.mut()[ref] = std::move(obj);
  return changed;
}

template <typename T>
bool EraseObject(Cow<ObjectMap<T>>& cow, const ObjectRef& ref) {
  if (cow.get().find(ref) == cow.get().end()) return false;
  cow.mut().erase(ref);
  return true;
}

Result<Ingress> ParseTyped(const nlohmann::json& j, const Ingress*) { return ParseIngress(j); }
Result<IngressClass> ParseTyped(const nlohmann::json& j, const IngressClass*) { return ParseIngressClass(j); }
Result<Service> ParseTyped(const nlohmann::json& j, const Service*) { return ParseService(j); }
Result<EndpointSlice> ParseTyped(const nlohmann::json& j, const EndpointSlice*) {
  return ParseEndpointSlice(j);
}

}  // namespace

struct Store::State {
  Cow<ObjectMap<Ingress>> ingresses;
  Cow<ObjectMap<IngressClass>> classes;
  Cow<ObjectMap<Service>> services;
  Cow<ObjectMap<TlsSecret>> secrets;
  Cow<std::map<ObjectRef, std::shared_ptr<const OtherSecret>>> other_secrets;
  std::array<Cow<SliceIndex::Shard>, SliceIndex::kShards> slice_shards;
  // Writer-side index of every slice (by slice namespace/name); never shared.
  std::map<ObjectRef, std::shared_ptr<const EndpointSlice>> slices;
  std::map<std::pair<Kind, ObjectRef>, std::string> rejections;
  std::shared_ptr<const std::vector<Rejection>> rejections_view = std::make_shared<std::vector<Rejection>>();
  bool rejections_dirty = false;
  StoreChanges changes;

  Cow<ObjectMap<Ingress>>& Map(const Ingress*) { return ingresses; }
  Cow<ObjectMap<IngressClass>>& Map(const IngressClass*) { return classes; }
  Cow<ObjectMap<Service>>& Map(const Service*) { return services; }

  void MarkChanged(Kind kind) { changes.kinds[static_cast<size_t>(kind)] = true; }

  bool SetRejection(Kind kind, const ObjectRef& ref, const std::string& message) {
    KEEL_LOG(Warn, "store") << "rejected " << KindName(kind) << " " << ref.str() << ": " << message;
    auto& slot = rejections[{kind, ref}];
    if (slot == message) return false;
    slot = message;
    rejections_dirty = true;
    return true;
  }
  bool ClearRejection(Kind kind, const ObjectRef& ref) {
    if (rejections.erase({kind, ref}) == 0) return false;
    rejections_dirty = true;
    return true;
  }

  // ─── EndpointSlices, indexed by Service ───

  static ObjectRef ServiceOf(const EndpointSlice& s) { return {s.meta.ns, s.spec.service_name}; }

  void SetInService(const ObjectRef& service, const std::string& slice_name,
                    std::shared_ptr<const EndpointSlice> slice) {
    if (service.name.empty()) return;  // no kubernetes.io/service-name label: unusable
    auto& outer = slice_shards[SliceIndex::ShardOf(service)].mut();
    auto it = outer.find(service);
    SliceSet set = it == outer.end() ? SliceSet{} : *it->second;
    if (slice) {
      set[slice_name] = std::move(slice);
    } else {
      set.erase(slice_name);
    }
    if (set.empty()) {
      outer.erase(service);
    } else {
      outer[service] = std::make_shared<const SliceSet>(std::move(set));
    }
    changes.endpoint_services.insert(service);
  }

  bool PutSlice(const ObjectRef& ref, std::shared_ptr<const EndpointSlice> slice) {
    auto it = slices.find(ref);
    if (it != slices.end() && Equivalent(*it->second, *slice)) {
      it->second = std::move(slice);
      return false;
    }
    if (it != slices.end() && ServiceOf(*it->second) != ServiceOf(*slice)) {
      SetInService(ServiceOf(*it->second), ref.name, nullptr);
    }
    SetInService(ServiceOf(*slice), ref.name, slice);
    slices[ref] = std::move(slice);
    return true;
  }

  bool EraseSlice(const ObjectRef& ref) {
    auto it = slices.find(ref);
    if (it == slices.end()) return false;
    SetInService(ServiceOf(*it->second), ref.name, nullptr);
    slices.erase(it);
    return true;
  }

  // ─── one object of any kind ───

  // Applies one parsed-or-rejected object; returns whether translation can see a change.
  template <typename T>
  bool ApplyTyped(Kind kind, const nlohmann::json& object) {
    Result<T> parsed = ParseTyped(object, static_cast<const T*>(nullptr));
    if (!parsed.ok()) return Reject(kind, object, parsed.error());
    T value = std::move(parsed.value());
    ObjectRef ref = value.meta.ref();
    NormalizeRef(kind, &ref);
    value.meta.ns = ref.ns;
    bool changed = ClearRejection(kind, ref);
    auto ptr = std::make_shared<const T>(std::move(value));
    if constexpr (std::is_same_v<T, EndpointSlice>) {
      changed |= PutSlice(ref, std::move(ptr));
    } else {
      changed |= PutObject(Map(static_cast<const T*>(nullptr)), ref, std::move(ptr));
    }
    return changed;
  }

  bool ApplySecret(const nlohmann::json& object) {
    Result<SecretParse> parsed = ParseSecret(object);
    if (!parsed.ok()) return Reject(Kind::Secret, object, parsed.error());
    SecretParse& p = parsed.value();
    ObjectRef ref = p.ref;
    NormalizeRef(Kind::Secret, &ref);
    bool changed = ClearRejection(Kind::Secret, ref);
    if (!p.tls) {
      changed |= EraseObject(secrets, ref);
      auto it = other_secrets.get().find(ref);
      if (it == other_secrets.get().end() || !(*it->second == p.other)) {
        other_secrets.mut()[ref] = std::make_shared<const OtherSecret>(std::move(p.other));
        changed = true;
      }
      return changed;
    }
    if (other_secrets.get().count(ref) != 0) {
      other_secrets.mut().erase(ref);
      changed = true;
    }
    p.tls->meta.ns = ref.ns;
    changed |= PutObject(secrets, ref, std::make_shared<const TlsSecret>(std::move(*p.tls)));
    return changed;
  }

  bool Reject(Kind kind, const nlohmann::json& object, const std::string& message) {
    Result<ObjectRef> ref = ParseRef(object);
    if (!ref.ok()) {
      KEEL_LOG(Warn, "store") << "dropped unnamed " << KindName(kind) << ": " << message;
      return false;
    }
    NormalizeRef(kind, &ref.value());
    // The object's previous version goes too: serving a stale version of an object the
    // user has since changed would be more surprising than serving none.
    bool changed = EraseAny(kind, ref.value());
    changed |= SetRejection(kind, ref.value(), message);
    return changed;
  }

  bool Apply(Kind kind, const nlohmann::json& object) {
    switch (kind) {
      case Kind::Ingress:
        return ApplyTyped<Ingress>(kind, object);
      case Kind::IngressClass:
        return ApplyTyped<IngressClass>(kind, object);
      case Kind::Service:
        return ApplyTyped<Service>(kind, object);
      case Kind::EndpointSlice:
        return ApplyTyped<EndpointSlice>(kind, object);
      case Kind::Secret:
        return ApplySecret(object);
    }
    return false;
  }

  bool EraseAny(Kind kind, const ObjectRef& ref) {
    switch (kind) {
      case Kind::Ingress:
        return EraseObject(ingresses, ref);
      case Kind::IngressClass:
        return EraseObject(classes, ref);
      case Kind::Service:
        return EraseObject(services, ref);
      case Kind::EndpointSlice:
        return EraseSlice(ref);
      case Kind::Secret: {
        bool changed = EraseObject(secrets, ref);
        if (other_secrets.get().count(ref) != 0) {
          other_secrets.mut().erase(ref);
          changed = true;
        }
        return changed;
      }
    }
    return false;
  }

  // Every ref currently held for `kind` (stored or rejected).
  std::set<ObjectRef> Refs(Kind kind) const {
    std::set<ObjectRef> out;
    auto add = [&out](const auto& map) {
      for (const auto& [ref, _] : map) out.insert(ref);
    };
    switch (kind) {
      case Kind::Ingress:
        add(ingresses.get());
        break;
      case Kind::IngressClass:
        add(classes.get());
        break;
      case Kind::Service:
        add(services.get());
        break;
      case Kind::EndpointSlice:
        add(slices);
        break;
      case Kind::Secret:
        add(secrets.get());
        add(other_secrets.get());
        break;
    }
    for (const auto& [key, _] : rejections) {
      if (key.first == kind) out.insert(key.second);
    }
    return out;
  }
};

bool StoreChanges::Any() const {
  return std::any_of(kinds.begin(), kinds.end(), [](bool b) { return b; });
}

bool StoreChanges::OnlyEndpointSlices() const {
  for (Kind k : kAllKinds) {
    if (Has(k) != (k == Kind::EndpointSlice)) return false;
  }
  return true;
}

StoreView::StoreView()
    : ingresses_(std::make_shared<ObjectMap<Ingress>>()),
      classes_(std::make_shared<ObjectMap<IngressClass>>()),
      services_(std::make_shared<ObjectMap<Service>>()),
      secrets_(std::make_shared<ObjectMap<TlsSecret>>()),
      other_secrets_(std::make_shared<std::map<ObjectRef, std::shared_ptr<const OtherSecret>>>()),
      rejections_(std::make_shared<std::vector<Rejection>>()) {}

const IngressClass* StoreView::FindIngressClass(const std::string& name) const {
  auto it = classes_->find(ObjectRef{"", name});
  return it == classes_->end() ? nullptr : it->second.get();
}

const Service* StoreView::FindService(const ObjectRef& ref) const {
  auto it = services_->find(ref);
  return it == services_->end() ? nullptr : it->second.get();
}

SliceIndex::SliceIndex() {
  for (auto& shard : shards_) shard = std::make_shared<Shard>();
}

size_t SliceIndex::ShardOf(const ObjectRef& service) {
  return (std::hash<std::string>{}(service.ns) * 31 + std::hash<std::string>{}(service.name)) % kShards;
}

const SliceSet* SliceIndex::Find(const ObjectRef& service) const {
  const Shard& shard = *shards_[ShardOf(service)];
  auto it = shard.find(service);
  return it == shard.end() ? nullptr : it->second.get();
}

size_t SliceIndex::size() const {
  size_t n = 0;
  for (const auto& shard : shards_) n += shard->size();
  return n;
}

const SliceSet* StoreView::FindSlices(const ObjectRef& service) const { return slices_.Find(service); }

const TlsSecret* StoreView::FindSecret(const ObjectRef& ref) const {
  auto it = secrets_->find(ref);
  return it == secrets_->end() ? nullptr : it->second.get();
}

const std::string* StoreView::OtherSecretType(const ObjectRef& ref) const {
  const OtherSecret* o = FindOtherSecret(ref);
  return o == nullptr ? nullptr : &o->type;
}

const OtherSecret* StoreView::FindOtherSecret(const ObjectRef& ref) const {
  auto it = other_secrets_->find(ref);
  return it == other_secrets_->end() ? nullptr : it->second.get();
}

Store::Store() : state_(std::make_unique<State>()) {}
Store::~Store() = default;

void Store::SetChangeCallback(ChangeCallback callback) {
  std::lock_guard<std::mutex> lock(mu_);
  callback_ = std::move(callback);
}

void Store::Replace(Kind kind, const std::vector<nlohmann::json>& objects) {
  bool changed = false;
  ChangeCallback cb;
  {
    std::lock_guard<std::mutex> lock(mu_);
    State& s = *state_;
    std::set<ObjectRef> stale = s.Refs(kind);
    for (const nlohmann::json& object : objects) {
      changed |= s.Apply(kind, object);
      Result<ObjectRef> ref = ParseRef(object);
      if (ref.ok()) {
        NormalizeRef(kind, &ref.value());
        stale.erase(ref.value());
      }
    }
    for (const ObjectRef& ref : stale) {
      changed |= s.EraseAny(kind, ref);
      changed |= s.ClearRejection(kind, ref);
    }
    if (changed) s.MarkChanged(kind);
    cb = callback_;
  }
  if (changed && cb) cb(kind);
}

void Store::Upsert(Kind kind, const nlohmann::json& object) {
  bool changed = false;
  ChangeCallback cb;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed = state_->Apply(kind, object);
    if (changed) state_->MarkChanged(kind);
    cb = callback_;
  }
  if (changed && cb) cb(kind);
}

void Store::Remove(Kind kind, const std::string& ns, const std::string& name) {
  bool changed = false;
  ChangeCallback cb;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ObjectRef ref{ns, name};
    NormalizeRef(kind, &ref);
    changed = state_->EraseAny(kind, ref);
    changed |= state_->ClearRejection(kind, ref);
    if (changed) state_->MarkChanged(kind);
    cb = callback_;
  }
  if (changed && cb) cb(kind);
}

void Store::Apply(const std::vector<SinkChange>& changes) {
  std::array<bool, std::size(kAllKinds)> changed{};
  ChangeCallback cb;
  {
    std::lock_guard<std::mutex> lock(mu_);
    State& s = *state_;
    for (const SinkChange& c : changes) {
      bool ch = false;
      if (c.object) {
        ch = s.Apply(c.kind, *c.object);
      } else {
        ObjectRef ref{c.ns, c.name};
        NormalizeRef(c.kind, &ref);
        ch = s.EraseAny(c.kind, ref);
        ch |= s.ClearRejection(c.kind, ref);
      }
      if (ch) {
        s.MarkChanged(c.kind);
        changed[static_cast<size_t>(c.kind)] = true;
      }
    }
    cb = callback_;
  }
  if (!cb) return;
  for (Kind k : kAllKinds) {
    if (changed[static_cast<size_t>(k)]) cb(k);
  }
}

StoreView Store::View(StoreChanges* drained) {
  std::lock_guard<std::mutex> lock(mu_);
  State& s = *state_;
  if (s.rejections_dirty) {
    auto list = std::make_shared<std::vector<Rejection>>();
    for (const auto& [key, message] : s.rejections) list->push_back({key.first, key.second, message});
    s.rejections_view = std::move(list);
    s.rejections_dirty = false;
  }
  StoreView v;
  v.ingresses_ = s.ingresses.share();
  v.classes_ = s.classes.share();
  v.services_ = s.services.share();
  for (size_t i = 0; i < SliceIndex::kShards; ++i) v.slices_.shards_[i] = s.slice_shards[i].share();
  v.secrets_ = s.secrets.share();
  v.other_secrets_ = s.other_secrets.share();
  v.rejections_ = s.rejections_view;
  if (drained != nullptr) {
    *drained = std::move(s.changes);
    s.changes = StoreChanges{};
  }
  return v;
}

size_t Store::Size(Kind kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  const State& s = *state_;
  switch (kind) {
    case Kind::Ingress:
      return s.ingresses.get().size();
    case Kind::IngressClass:
      return s.classes.get().size();
    case Kind::Service:
      return s.services.get().size();
    case Kind::EndpointSlice:
      return s.slices.size();
    case Kind::Secret:
      return s.secrets.get().size();
  }
  return 0;
}

}  // namespace keel::store
