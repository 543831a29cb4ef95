// Authentication annotations. keel implements ingress-nginx's basic auth (auth-type:
// basic, auth-secret, auth-secret-type, auth-realm) and fails CLOSED on every other way
// an Ingress asks for protection (auth-url, auth-signin, auth-tls-secret, auth-type:
// digest, ModSecurity with rules): serving such an Ingress without the protection its
// author asked for would expose what ingress-nginx kept behind a login.
//
//   - unsupported protection → the Ingress is not served at all (Error diagnostic
//     "UnsupportedAuthentication", like an invalid Ingress): its paths 404 or fall to
//     other Ingresses' routes, never to its own backends;
//   - basic auth that cannot be enforced (Secret missing, wrong type, no usable entry,
//     auth-type without auth-secret or the reverse) → its paths answer 503, as
//     ingress-nginx's "denied" locations do, with an Error diagnostic.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/store/objects.h"
#include "controller/store/store.h"
#include "controller/translate/diagnostics.h"

namespace keel::translate {

struct AuthSettings {
  // Reasons the Ingress must not be served (one per unsupported annotation).
  std::vector<std::string> reject;
  bool basic = false;  // basic auth asked for (auth-type: basic, or auth-secret alone)
  std::string error;   // basic auth asked for but unusable as written: answer 503
  store::ObjectRef secret;
  bool auth_map = false;  // auth-secret-type: auth-map (keys are users, values hashes)
  std::string realm;
};

// The trimmed value of an ingress-nginx annotation (name without prefix), or nullptr.
using AnnotationLookup = std::function<const std::string*(std::string_view)>;

// `prefix` is "<annotation prefix>/", for messages.
AuthSettings ParseAuth(const AnnotationLookup& nginx, const store::Ingress& ing, const std::string& prefix,
                       Diagnostics* diags);

// The entries a basic-auth Secret yields, for RoutePolicy.basic_auth_users.
struct BasicAuthUsers {
  std::vector<std::string> lines;  // "user:hash", first occurrence of each user only
  std::string reason;              // set when unusable: the paths answer 503
  std::string message;
  std::vector<std::string> skipped;  // per refused entry: "user carol: plaintext ..."
};

// Reads and validates the Secret (`auth` key for an auth-file, every key for an
// auth-map). Entries with hashes the dataplane cannot verify (plaintext, DES, too
// expensive) are skipped and reported; no usable entry at all makes the result unusable.
BasicAuthUsers ReadBasicAuthSecret(const store::StoreView& view, const store::ObjectRef& ref, bool auth_map);

}  // namespace keel::translate
