// Authentication annotations and basic-auth Secrets (see auth.h), and the builder step
// that puts the entries on routes (Builder::ApplyBasicAuth).
#include "controller/translate/auth.h"

#include <set>

#include "common/htpasswd.h"
#include "controller/translate/builder.h"
#include "controller/translate/values.h"

namespace keel::translate {
namespace {

// DNS-1123 subdomain characters, as Secret names are.
bool ObjectName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

}  // namespace

AuthSettings ParseAuth(const AnnotationLookup& nginx, const store::Ingress& ing, const std::string& prefix,
                       Diagnostics* diags) {
  AuthSettings a;
  auto reject = [&](std::string_view name, const std::string& why) {
    a.reject.push_back(prefix + std::string(name) + ": " + why);
  };
  if (nginx("auth-url") != nullptr) reject("auth-url", "external authentication is not supported by keel");
  // auth-signin only acts with auth-url in ingress-nginx, but it says the author wants
  // a login in front of the paths: closed either way.
  if (nginx("auth-signin") != nullptr)
    reject("auth-signin", "external authentication is not supported by keel");
  if (nginx("auth-tls-secret") != nullptr)
    reject("auth-tls-secret", "client certificate authentication is not supported by keel");
  // ingress-nginx's default ModSecurity engine is DetectionOnly: enable-modsecurity (and
  // the OWASP rules) alone block nothing, and stay a warning. A modsecurity-snippet is
  // how blocking is turned on (SecRuleEngine On, custom rules): that Ingress expects a WAF.
  const std::string* modsec = nginx("enable-modsecurity");
  if (modsec != nullptr && ParseBool(*modsec).value_or(false) && nginx("modsecurity-snippet") != nullptr)
    reject("modsecurity-snippet", "ModSecurity rules are not supported by keel");
  // auth-snippet is NOT a reason to reject: in ingress-nginx it is only inserted into
  // the auth-url subrequest's location, so it protects nothing by itself, and with
  // auth-url the Ingress is rejected above. It stays an ignored snippet (annotations.cc).

  const std::string* type = nginx("auth-type");
  const std::string* secret = nginx("auth-secret");
  if (type != nullptr) {
    if (*type == "basic") {
      a.basic = true;
    } else if (*type == "digest") {
      reject("auth-type", "\"digest\" is not supported by keel (only \"basic\")");
    } else {
      reject("auth-type", "\"" + *type + "\" is not \"basic\" (keel) or \"digest\" (ingress-nginx)");
    }
  } else if (secret != nullptr) {
    // ingress-nginx serves this open (no auth-type, no auth); the author clearly meant
    // a login, so keel answers 503 until the annotations are complete.
    a.basic = true;
    a.error = prefix + "auth-secret is set without " + prefix + "auth-type: basic";
    return a;
  }
  if (!a.basic) return a;
  if (secret == nullptr) {
    a.error = prefix + "auth-type: basic without " + prefix + "auth-secret";
    return a;
  }
  size_t slash = secret->find('/');
  a.secret = slash == std::string::npos
                 ? store::ObjectRef{ing.meta.ns, *secret}
                 : store::ObjectRef{secret->substr(0, slash), secret->substr(slash + 1)};
  if (!ObjectName(a.secret.ns) || !ObjectName(a.secret.name)) {
    a.error = prefix + "auth-secret: \"" + *secret + "\" is not \"name\" or \"namespace/name\"";
    return a;
  }
  if (const std::string* st = nginx("auth-secret-type")) {
    if (*st == "auth-map") {
      a.auth_map = true;
    } else if (*st != "auth-file") {
      a.error = prefix + "auth-secret-type: \"" + *st + "\" is not auth-file or auth-map";
      return a;
    }
  }
  if (const std::string* realm = nginx("auth-realm")) {
    bool ok = realm->size() <= 256;
    for (char c : *realm) ok &= static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
    if (ok) {
      a.realm = *realm;
    } else {
      diags->Ingress(ing, Severity::kWarning, "InvalidAnnotation",
                     prefix + "auth-realm: has control characters or is over 256 bytes; ignored");
    }
  }
  return a;
}

BasicAuthUsers ReadBasicAuthSecret(const store::StoreView& view, const store::ObjectRef& ref, bool auth_map) {
  BasicAuthUsers out;
  const std::string name = ref.str();
  const store::OtherSecret* s = view.FindOtherSecret(ref);
  if (s == nullptr || s->type != "Opaque") {
    out.reason = "InvalidAuthSecret";
    if (s != nullptr) {
      out.message = "Secret " + name + " has type " + s->type + ", not Opaque";
    } else if (view.FindSecret(ref) != nullptr) {
      out.message = "Secret " + name + " has type kubernetes.io/tls, not Opaque";
    } else {
      out.reason = "AuthSecretNotFound";
      out.message = "Secret " + name + " not found";
      for (const store::Rejection& r : view.rejections()) {
        if (r.kind == store::Kind::Secret && r.ref == ref) {
          out.reason = "InvalidAuthSecret";
          out.message = "Secret " + name + " is malformed: " + r.message;
        }
      }
    }
    return out;
  }
  std::vector<std::string> candidates;
  if (auth_map) {
    for (const auto& [user, hash] : s->data) candidates.push_back(user + ":" + std::string(Trim(hash)));
  } else {
    auto it = s->data.find("auth");
    if (it == s->data.end()) {
      out.reason = "InvalidAuthSecret";
      out.message = "Secret " + name + " has no \"auth\" key (an htpasswd file)";
      return out;
    }
    std::string_view file = it->second;
    while (!file.empty()) {
      size_t nl = file.find('\n');
      std::string_view line = Trim(file.substr(0, nl));
      file = nl == std::string_view::npos ? std::string_view() : file.substr(nl + 1);
      if (!line.empty() && line[0] != '#') candidates.emplace_back(line);  // nginx skips '#' lines
    }
  }
  std::set<std::string_view> users;
  for (const std::string& line : candidates) {
    auto e = htpasswd::ParseLine(line);
    if (!e.ok()) {
      out.skipped.push_back(e.error());
      continue;
    }
    if (users.insert(e->user).second) out.lines.push_back(line);  // nginx: the first line wins
  }
  if (out.lines.empty()) {
    out.reason = "InvalidAuthSecret";
    out.message = "Secret " + name + " has no usable " + (auth_map ? "auth-map entry" : "htpasswd entry");
  }
  return out;
}

bool Builder::ApplyBasicAuth(const store::Ingress& ing, const IngressPolicy& pol, const std::string& where,
                             config::v1::RoutePolicy* policy) {
  const AuthSettings& a = pol.auth;
  if (!a.error.empty()) {
    diags_.Ingress(ing, Severity::kError, "InvalidAuthentication",
                   where + ": " + a.error + "; answering 503");
    return false;
  }
  auto [it, inserted] = basic_auth_.try_emplace({a.secret, a.auth_map});
  if (inserted) it->second = ReadBasicAuthSecret(view_, a.secret, a.auth_map);
  const BasicAuthUsers& u = it->second;
  for (const std::string& skipped : u.skipped) {
    diags_.Ingress(ing, Severity::kWarning, "InvalidAuthEntry",
                   "Secret " + a.secret.str() + ": " + skipped + "; entry skipped");
  }
  if (!u.reason.empty()) {
    diags_.Ingress(ing, Severity::kError, u.reason, where + ": " + u.message + "; answering 503");
    return false;
  }
  for (const std::string& line : u.lines) policy->add_basic_auth_users(line);
  policy->set_basic_auth_realm(a.realm);
  return true;
}

}  // namespace keel::translate
