// ApiClient: requests to the Kubernetes API server over HTTP(S) with a bearer token
// or a client certificate. The cpprestsdk client lives behind this interface (only
// api_client.cc includes it); callers see JSON in, status code + JSON out.
//
// Failures come in two kinds, kept apart on purpose: Result errors mean no HTTP reply
// arrived (connection refused, TLS, timeout, cancelled); an HTTP reply with a
// non-2xx code is a Response whose body is usually a metav1.Status (see api_status.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "controller/k8s/api_status.h"
#include "controller/k8s/cancel.h"
#include "controller/k8s/config.h"

namespace keel::k8s {

enum class Method { Get, Post, Put, Patch, Delete };

// How the server interprets a PATCH body (the Content-Type sent).
enum class PatchType { Merge, StrategicMerge, Json, Apply };
std::string_view ContentType(PatchType type);

struct Response {
  int code = 0;
  nlohmann::json body;  // null when the reply had no body or it was not JSON
  bool ok() const { return code >= 200 && code < 300; }
  ApiStatus status() const { return ParseStatus(code, body); }
};

struct ClientOptions {
  std::chrono::seconds request_timeout{30};
  // cpprest's timeout is per read: a watch stream must see bytes (an event or a
  // BOOKMARK) at least this often, so it is set above the watch's timeoutSeconds.
  std::chrono::seconds stream_idle_timeout{420};
  std::chrono::milliseconds token_refresh{std::chrono::minutes(1)};
  std::string user_agent;  // empty: "keel-controller/<version>"
};

class ApiClient {
 public:
  static Result<std::unique_ptr<ApiClient>> Create(const ClusterConfig& config, ClientOptions options = {});
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // One request. `target` is the path and query ("/api/v1/namespaces/x/services?limit=500").
  // A 401 re-reads a file-backed token and retries once if it changed.
  Result<Response> Request(Method method, const std::string& target, const nlohmann::json* body = nullptr,
                           std::string_view content_type = "application/json", Canceller* cancel = nullptr);

  // Helpers that fold non-2xx replies into an Error naming the Status (reason, message).
  Result<nlohmann::json> Get(const std::string& target, Canceller* cancel = nullptr);
  Result<nlohmann::json> Post(const std::string& target, const nlohmann::json& object);
  Result<nlohmann::json> Put(const std::string& target, const nlohmann::json& object);
  Result<nlohmann::json> Patch(const std::string& target, const nlohmann::json& patch, PatchType type);
  Result<nlohmann::json> Delete(const std::string& target);

  // A streaming GET (a watch). On a 200 reply, `on_line` gets every newline-terminated
  // line as it arrives until the server ends the body; returning false stops reading
  // early. Returns the Response (body set only for non-200 replies) or an Error if the
  // connection failed or was cancelled mid-stream.
  Result<Response> Stream(const std::string& target, const std::function<bool(std::string_view)>& on_line,
                          Canceller* cancel = nullptr);

  const std::string& server() const;

 private:
  struct Impl;
  explicit ApiClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keel::k8s
