// Translation: a PURE function from a consistent store view to one compiled snapshot
// plus per-object diagnostics. No I/O, no clock, no global state: the same view and
// options always give the same bytes and the same version. The rules (classes, hosts,
// paths, backends, conflicts, TLS, annotations) are documented in README.md beside
// this file; golden cases live in tests/golden/.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "controller/store/store.h"
#include "controller/translate/certificate.h"
#include "controller/translate/version.h"
#include "keel/config/v1/config.pb.h"

namespace keel::translate {

enum class Severity { kInfo = 0, kWarning = 1, kError = 2 };
std::string_view SeverityName(Severity severity);  // "Info", "Warning", "Error"

// One finding about one object; becomes a Kubernetes Event (Warning for kWarning and
// kError) on that object.
struct Diagnostic {
  std::string kind;  // "Ingress", "Secret", ...
  std::string ns;
  std::string name;
  Severity severity = Severity::kWarning;
  std::string reason;  // short CamelCase, like Event reasons: "UnknownService"
  std::string message;

  auto operator<=>(const Diagnostic&) const = default;
  bool operator==(const Diagnostic&) const = default;
};

struct TranslateOptions {
  // IngressClass.spec.controller value that names us.
  std::string controller_class = "keel.dev/ingress-controller";
  // Value of the legacy kubernetes.io/ingress.class annotation that names us.
  std::string ingress_class = "keel";
  // Also claim Ingresses that name no class at all (even without a default class).
  bool watch_without_class = false;
  // "namespace/name" of a TLS Secret served when SNI matches no host; empty: none.
  std::string default_ssl_certificate;
  // Prefix of the ingress-nginx compatible annotations.
  std::string annotation_prefix = "nginx.ingress.kubernetes.io";
  // Global HTTP→HTTPS redirect for hosts with TLS (GlobalSettings.ssl_redirect).
  bool ssl_redirect = true;
  // Checks TLS Secrets; not owned. nullptr: PemStructureValidator.
  const CertificateValidator* certificate_validator = nullptr;
};

struct TranslateResult {
  // version set, built_at_unix_ms left 0 for the caller.
  config::v1::Snapshot snapshot;
  // Sorted by (kind, namespace, name, severity, reason, message), unique.
  std::vector<Diagnostic> diagnostics;
  // Every Ingress this controller claims (for status writing), sorted.
  std::vector<store::ObjectRef> owned_ingresses;
  // Digests behind snapshot.version, kept for the endpoint fast path.
  SnapshotDigests digests;
};

TranslateResult Translate(const store::StoreView& view, const TranslateOptions& options);

// ─── endpoint fast path ───

struct EndpointUpdate {
  // base_version → version; `clusters` holds exactly the clusters whose endpoints
  // changed, with their complete new lists. Empty clusters: nothing changed.
  config::v1::EndpointDelta delta;
  // Indexes into prev.snapshot.clusters() of the changed clusters, parallel to
  // delta.clusters(), and their new digests.
  std::vector<int> cluster_indexes;
  std::vector<Digest> cluster_digests;
  // A changed Service lost the port a cluster uses, or the Service itself is gone:
  // only a full Translate() gives the right answer (routes turn into 503s). The delta
  // is then empty.
  bool needs_full_translation = false;
};

// Recomputes the endpoints of the clusters of `changed_services` only (those a
// StoreChanges reports when only EndpointSlices changed). Cost: the changed services'
// slices plus one pass over the cluster digests for the new version; the version is
// the same as a full Translate() of the same view would give.
EndpointUpdate UpdateEndpoints(const store::StoreView& view, const TranslateResult& prev,
                               const std::vector<store::ObjectRef>& changed_services);

// Applies an update from UpdateEndpoints(view, *result, ...) to *result in place.
// Returns false, changing nothing, when the update does not apply (it needs a full
// translation, or was computed against another version).
bool ApplyEndpointUpdate(const EndpointUpdate& update, TranslateResult* result);

}  // namespace keel::translate
