// Route policy evaluation (see policy.h).
#include "dataplane/policy/policy.h"

#include <algorithm>
#include <cctype>

#include "common/htpasswd.h"
#include "dataplane/http1/fields.h"

namespace keel::policy {
namespace {

bool TokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

Status CheckField(std::string_view what, const std::string& name, const std::string& value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), TokenChar))
    return Error{std::string(what) + " header name '" + name + "' is not a token"};
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0')
      return Error{std::string(what) + " header " + name + " has CR, LF or NUL"};
  }
  return Status::Ok();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

RequestFacts Facts(std::span<const http1::Header> fields, std::string_view method,
                   std::string_view client_ip) {
  RequestFacts f;
  f.method = method;
  f.client_ip = client_ip;
  for (const auto& h : fields) {
    if (h.name.size() == 6 && http1::EqualsIgnoreCase(h.name, "origin"))
      f.origin = h.value;
    else if (http1::EqualsIgnoreCase(h.name, "access-control-request-method"))
      f.request_method = h.value;
    else if (f.authorization.empty() && http1::EqualsIgnoreCase(h.name, "authorization"))
      f.authorization = h.value;
  }
  return f;
}

void Verdict::Reset() {
  status = 0;
  body.clear();
  fields.clear();
  response_fields.clear();
  lease.Release();
}

void AppendHttp1(const Fields& fields, std::string* out) {
  for (const auto& f : fields) {
    out->append(f.name);
    out->append(": ");
    out->append(f.value);
    out->append("\r\n");
  }
}

Status Validate(const keel::config::v1::RoutePolicy& p) {
  for (const auto& h : p.request_headers_to_add()) {
    if (auto st = CheckField("request", h.name(), h.value()); !st.ok()) return st;
  }
  for (const auto& h : p.response_headers_to_add()) {
    if (auto st = CheckField("response", h.name(), h.value()); !st.ok()) return st;
  }
  const auto& c = p.cors();
  for (const std::string* v : {&c.allow_methods(), &c.allow_headers(), &c.expose_headers()}) {
    if (auto st = CheckField("cors", "access-control", *v); !st.ok()) return st;
  }
  for (const auto& o : c.allow_origins()) {
    if (auto st = CheckField("cors origin", "origin", o); !st.ok()) return st;
  }
  for (const auto& line : p.basic_auth_users()) {
    auto entry = htpasswd::ParseLine(line);
    if (!entry.ok()) return Error{"basic auth: " + entry.error()};
  }
  if (auto st = CheckField("basic auth realm", "www-authenticate", p.basic_auth_realm()); !st.ok()) return st;
  return Status::Ok();
}

bool WorkerPolicy::Evaluate(const keel::config::v1::RoutePolicy& p, std::string_view ns,
                            std::string_view ingress, const RequestFacts& req, uint64_t now_ms,
                            Verdict* out) {
  out->Reset();
  CorsOutcome cors = EvaluateCors(p.cors(), req.method, req.origin, req.request_method);
  if (cors.preflight) {
    out->status = 204;
    out->fields = std::move(cors.fields);
    return true;
  }
  out->fields = cors.fields;
  const auto& rl = p.rate_limit();
  if (rl.requests_per_second() || rl.connections()) {
    key_.assign(ns);
    key_.push_back('/');
    key_.append(ingress);
    key_.push_back('\0');
    key_.append(req.client_ip);
    if (uint32_t wait = rate_.Admit(key_, rl.requests_per_second(), rl.burst(), now_ms)) {
      out->status = 429;
      out->body = "too many requests\n";
      out->fields.push_back({"retry-after", std::to_string(wait)});
      return true;
    }
    if (!inflight_.Admit(key_, rl.connections(), &out->lease)) {
      out->status = 429;
      out->body = "too many concurrent requests from this address\n";
      out->fields.push_back({"retry-after", "1"});
      return true;
    }
  }
  // nginx answers 401 with its own headers only; CORS headers stay on it (as on the
  // 429s) so a browser script can tell an auth failure from a network error.
  if (!p.basic_auth_users().empty() && !auth_.Check(p, req.authorization)) {
    out->status = 401;
    out->body = "401 Authorization Required\n";
    out->fields.push_back({"www-authenticate", BasicChallenge(p.basic_auth_realm())});
    return true;
  }
  out->fields.clear();
  out->response_fields = std::move(cors.fields);
  for (const auto& h : p.response_headers_to_add())
    out->response_fields.push_back({Lower(h.name()), h.value()});
  return false;
}

}  // namespace keel::policy
