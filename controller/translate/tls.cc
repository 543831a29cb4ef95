// TLS: Ingress spec.tls → per-host certificates, each Secret checked once through the
// injected CertificateValidator. A host whose Secret is missing or broken keeps
// serving with the default certificate (or none), with a diagnostic on the Ingress.
#include <algorithm>

#include "controller/translate/builder.h"

namespace keel::translate {
namespace {

// Whether a certificate DNS name covers `host` (RFC 6125 §6.4.3: a wildcard covers
// exactly one leftmost label).
bool Covers(const std::string& san, const std::string& host) {
  if (san == host) return true;
  if (san.rfind("*.", 0) != 0 || host[0] == '*') return false;
  size_t dot = host.find('.');
  return dot != std::string::npos && host.substr(dot) == san.substr(1);
}

}  // namespace

const SecretOutcome& Builder::CheckSecret(const store::ObjectRef& ref) {
  auto [it, inserted] = secrets_checked_.try_emplace(ref);
  SecretOutcome& o = it->second;
  if (!inserted) return o;
  const std::string name = ref.ns + "/" + ref.name;
  const store::TlsSecret* secret = view_.FindSecret(ref);
  if (secret == nullptr) {
    if (const std::string* type = view_.OtherSecretType(ref)) {
      o.reason = "TLSSecretWrongType";
      o.message = "Secret " + name + " has type " + *type + ", not kubernetes.io/tls";
      return o;
    }
    for (const store::Rejection& r : view_.rejections()) {
      if (r.kind == store::Kind::Secret && r.ref == ref) {
        o.reason = "InvalidTLSSecret";
        o.message = "Secret " + name + " is malformed: " + r.message;
        return o;
      }
    }
    o.reason = "TLSSecretNotFound";
    o.message = "Secret " + name + " not found";
    return o;
  }
  CertificateCheck check = validator_->Validate(secret->cert_pem, secret->key_pem);
  switch (check.error) {
    case CertificateCheck::Error::kNone:
      break;
    case CertificateCheck::Error::kBadChain:
      o.reason = "InvalidTLSCertificate";
      break;
    case CertificateCheck::Error::kBadKey:
      o.reason = "InvalidTLSKey";
      break;
    case CertificateCheck::Error::kKeyMismatch:
      o.reason = "TLSKeyMismatch";
      break;
  }
  if (!check.ok()) {
    o.message = "Secret " + name + ": " + check.message;
    return o;
  }
  config::v1::Certificate& cert = certs_[name];
  cert.set_name(name);
  cert.set_cert_chain_pem(secret->cert_pem);
  cert.set_private_key_pem(secret->key_pem);
  for (const std::string& dns : check.dns_names) cert.add_dns_names(dns);
  cert.set_not_after_unix_s(check.not_after_unix_s);
  o.certificate = name;
  o.dns_names = check.dns_names;
  return o;
}

void Builder::ResolveDefaultCertificate() {
  const std::string& spec = opts_.default_ssl_certificate;
  if (spec.empty()) return;
  size_t slash = spec.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == spec.size()) {
    diags_.Add("Secret", {"", spec}, Severity::kError, "InvalidDefaultCertificate",
               "default SSL certificate \"" + spec + "\" is not namespace/name");
    return;
  }
  store::ObjectRef ref{spec.substr(0, slash), spec.substr(slash + 1)};
  const SecretOutcome& o = CheckSecret(ref);
  if (o.certificate.empty()) {
    diags_.Add("Secret", ref, Severity::kError, o.reason,
               o.message + "; no default certificate (the dataplane uses its self-signed one)");
    return;
  }
  default_certificate_ = o.certificate;
}

void Builder::ResolveTls(const store::Ingress& ing) {
  struct Candidate {
    std::string host;              // "" for an entry without hosts: applies to every host of the Ingress
    const SecretOutcome* outcome;  // nullptr: no secretName, default certificate
    std::string secret;
  };
  std::vector<Candidate> candidates;
  for (const store::IngressTls& tls : ing.spec.tls) {
    const SecretOutcome* outcome = nullptr;
    std::string secret;
    if (!tls.secret_name.empty()) {
      secret = ing.meta.ns + "/" + tls.secret_name;
      outcome = &CheckSecret({ing.meta.ns, tls.secret_name});
      if (outcome->certificate.empty()) {
        diags_.Ingress(ing, Severity::kError, outcome->reason,
                       outcome->message + "; its hosts use the default certificate");
      }
    }
    if (tls.hosts.empty()) candidates.push_back({"", outcome, secret});
    for (const std::string& raw : tls.hosts) {
      Result<std::string> h = NormalizeHost(raw);
      if (!h.ok()) {
        diags_.Ingress(ing, Severity::kError, "InvalidHost", "spec.tls: " + h.error() + "; TLS host skipped");
        continue;
      }
      candidates.push_back({h.value(), outcome, secret});
    }
  }
  if (candidates.empty()) return;
  for (const std::string& host : hosts_of_[&ing]) {
    if (host.empty()) continue;
    // Exact TLS host, then the wildcard one label up, then an entry without hosts.
    auto find = [&candidates](const std::string& want) -> const Candidate* {
      for (const Candidate& c : candidates) {
        if (c.host == want) return &c;
      }
      return nullptr;
    };
    const Candidate* pick = find(host);
    if (pick == nullptr && !WildcardParent(host).empty()) pick = find(WildcardParent(host));
    if (pick == nullptr) pick = find("");
    if (pick == nullptr) continue;
    auto vit = vhosts_.find(host);
    if (vit == vhosts_.end() || vit->second.routes.empty()) continue;
    VHostBuild& vh = vit->second;
    if (vh.tls_owner != nullptr) {
      if (vh.tls_secret != pick->secret) {
        diags_.Ingress(ing, Severity::kWarning, "TLSConflict",
                       "host \"" + host + "\" already uses TLS settings of the older Ingress " +
                           vh.tls_owner->meta.ref().str() + "; spec.tls for it ignored");
      }
      continue;
    }
    vh.tls_owner = &ing;
    vh.tls_secret = pick->secret;
    vh.sources.insert(ing.meta.ref().str());
    if (pick->outcome != nullptr && !pick->outcome->certificate.empty()) {
      vh.certificate = pick->outcome->certificate;
      const auto& names = pick->outcome->dns_names;
      if (!names.empty() && std::none_of(names.begin(), names.end(),
                                         [&](const std::string& san) { return Covers(san, host); })) {
        diags_.Ingress(ing, Severity::kWarning, "TLSHostMismatch",
                       "certificate " + pick->outcome->certificate + " does not cover host \"" + host + "\"");
      }
    } else {
      vh.certificate = default_certificate_;
    }
  }
}

}  // namespace keel::translate
