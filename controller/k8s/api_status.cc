// ApiStatus parsing.
#include "controller/k8s/api_status.h"

#include <nlohmann/json.hpp>

namespace keel::k8s {

ApiStatus ParseStatus(int http_code, const nlohmann::json& body) {
  ApiStatus s;
  s.code = http_code;
  bool is_status = body.is_object() && body.value("kind", "") == "Status";
  if (is_status) {
    if (body.contains("code") && body["code"].is_number_integer()) s.code = body["code"].get<int>();
    s.reason_text = body.value("reason", "");
    s.message = body.value("message", "");
  } else if (body.is_string()) {
    s.message = body.get<std::string>();
  }
  if (s.code >= 200 && s.code < 300) {
    s.reason = Reason::kNone;
    return s;
  }
  // Reason wins over the bare code where they differ (409 is Conflict or AlreadyExists).
  const std::string& r = s.reason_text;
  if (r == "AlreadyExists") {
    s.reason = Reason::kAlreadyExists;
  } else if (r == "Expired" || r == "Gone" || s.code == 410) {
    s.reason = Reason::kExpired;
  } else if (s.code == 401) {
    s.reason = Reason::kUnauthorized;
  } else if (s.code == 403) {
    s.reason = Reason::kForbidden;
  } else if (s.code == 404) {
    s.reason = Reason::kNotFound;
  } else if (s.code == 409) {
    s.reason = Reason::kConflict;
  } else if (s.code == 422) {
    s.reason = Reason::kInvalid;
  } else if (s.code == 429) {
    s.reason = Reason::kTooManyRequests;
  } else if (s.code >= 500) {
    s.reason = Reason::kServerError;
  } else {
    s.reason = Reason::kOther;
  }
  if (s.reason_text.empty()) s.reason_text = "HTTP " + std::to_string(s.code);
  return s;
}

std::string ApiStatus::Describe() const {
  std::string out = "HTTP " + std::to_string(code) + " " + reason_text;
  if (reason_text.rfind("HTTP ", 0) == 0) out = reason_text;
  if (!message.empty()) out += ": " + message;
  return out;
}

}  // namespace keel::k8s
