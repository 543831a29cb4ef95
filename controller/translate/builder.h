// The translation builder's internal state, shared by translate.cc (classes, routes,
// backends, canaries, output) and tls.cc (certificates). Not part of the public API.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/store/store.h"
#include "controller/translate/annotations.h"
#include "controller/translate/auth.h"
#include "controller/translate/backends.h"
#include "controller/translate/diagnostics.h"
#include "controller/translate/hosts_paths.h"
#include "controller/translate/translate.h"

namespace keel::translate {

struct RouteEntry {
  config::v1::Route route;
  const store::Ingress* owner = nullptr;
  uint64_t seq = 0;       // order of appearance (regex routes keep it)
  bool fallback = false;  // an Ingress defaultBackend, not an explicit rule
  bool split = false;     // already weighted with a canary
};

struct VHostBuild {
  // Keyed by RouteKey(): match kind, path and header conditions.
  std::map<std::string, RouteEntry> routes;
  std::string certificate;
  const store::Ingress* tls_owner = nullptr;
  std::string tls_secret;  // "namespace/name" the TLS owner asked for
  std::set<std::string> sources;
  std::set<const store::Ingress*> force_ssl_redirect;
};

// Outcome of checking one TLS Secret, memoised per Secret.
struct SecretOutcome {
  std::string certificate;  // name in Snapshot.certificates, empty when unusable
  std::string reason;       // set when unusable
  std::string message;
  std::vector<std::string> dns_names;
};

class Builder {
 public:
  Builder(const store::StoreView& view, const TranslateOptions& options);
  TranslateResult Run();

 private:
  // translate.cc
  bool Claims(const store::Ingress& ing) const;
  void ProcessIngress(const store::Ingress& ing, const IngressPolicy& pol);
  void ProcessCanary(const store::Ingress& ing, const IngressPolicy& pol);
  void AddFallbacks(const store::Ingress& ing, const IngressPolicy& pol);
  void AddDefaultFallbacks();
  config::v1::Route BuildRoute(const store::Ingress& ing, const IngressPolicy& pol, const PathMatch& match,
                               const store::IngressBackend& backend, const std::string& host,
                               bool default_backend);
  // The cluster for a resolved backend under `pol`'s cluster settings; created once.
  std::string EnsureCluster(const std::string& ns, const ResolvedBackend& rb, const IngressPolicy& pol);
  bool AddRoute(VHostBuild* vh, const std::string& host, RouteEntry entry);
  void Emit(TranslateResult* out);

  // auth.cc: puts the basic-auth entries on `policy`; false (with a diagnostic) when
  // they cannot be enforced and the route must answer 503.
  bool ApplyBasicAuth(const store::Ingress& ing, const IngressPolicy& pol, const std::string& where,
                      config::v1::RoutePolicy* policy);

  // tls.cc
  void ResolveDefaultCertificate();
  void ResolveTls(const store::Ingress& ing);
  const SecretOutcome& CheckSecret(const store::ObjectRef& ref);

  VHostBuild* VHost(const std::string& host) { return host.empty() ? &default_ : &vhosts_[host]; }

  const store::StoreView& view_;
  const TranslateOptions& opts_;
  PemStructureValidator fallback_validator_;
  const CertificateValidator* validator_;
  Diagnostics diags_;

  // Hashed for the per-path lookups; Emit() sorts by name.
  std::unordered_map<std::string, VHostBuild> vhosts_;
  VHostBuild default_;
  struct ClusterBuild {
    config::v1::Cluster proto;
    bool used = false;  // referenced by an emitted route
  };
  std::unordered_map<std::string, ClusterBuild> clusters_;
  std::map<std::string, config::v1::Certificate> certs_;
  std::map<store::ObjectRef, SecretOutcome> secrets_checked_;
  std::map<std::pair<store::ObjectRef, bool>, BasicAuthUsers> basic_auth_;  // (Secret, auth-map)
  std::set<const store::Ingress*> auth_unavailable_;  // basic auth asked for, not enforceable: 503s
  std::string default_certificate_;
  // Hosts (normalised, "" for host-less rules) each Ingress contributes routes to.
  std::map<const store::Ingress*, std::set<std::string>> hosts_of_;
  uint64_t seq_ = 0;
};

// Key under which routes conflict: same match kind, path and header conditions.
std::string RouteKey(const config::v1::RouteMatch& match);

}  // namespace keel::translate
