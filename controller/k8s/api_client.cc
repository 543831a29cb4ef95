// ApiClient over cpprestsdk (Boost.Asio + OpenSSL 3). This is the only file that
// includes cpprest/http_client.h: it costs ~20 s and ~0.8 GB to compile.
#include "controller/k8s/api_client.h"

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <mutex>

#include "common/log.h"
#include "controller/k8s/token_source.h"

namespace keel::k8s {
namespace {

namespace http = web::http;
namespace client = web::http::client;

http::method MethodName(Method m) {
  switch (m) {
    case Method::Get:
      return http::methods::GET;
    case Method::Post:
      return http::methods::POST;
    case Method::Put:
      return http::methods::PUT;
    case Method::Patch:
      return http::methods::PATCH;
    case Method::Delete:
      return http::methods::DEL;
  }
  return http::methods::GET;
}

// Applied to every new TLS connection. Throws boost::system::system_error on bad PEM;
// Create() runs it once up front so that never happens later.
void ConfigureTls(boost::asio::ssl::context& ctx, const ClusterConfig& c) {
  if (!c.ca_pem.empty()) {
    // Trust only the cluster CA, as client-go does, not the system roots cpprest loads.
    SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
    ctx.add_certificate_authority(boost::asio::buffer(c.ca_pem));
  }
  if (!c.client_cert_pem.empty()) {
    ctx.use_certificate_chain(boost::asio::buffer(c.client_cert_pem));
    ctx.use_private_key(boost::asio::buffer(c.client_key_pem), boost::asio::ssl::context::pem);
  }
}

client::http_client_config MakeConfig(const ClusterConfig& c, std::chrono::seconds timeout) {
  client::http_client_config cfg;
  cfg.set_timeout(timeout);
  cfg.set_validate_certificates(!c.insecure_skip_tls_verify);
  cfg.set_max_redirects(0);
  ClusterConfig tls = c;  // the callback outlives the caller's config
  cfg.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) { ConfigureTls(ctx, tls); });
  return cfg;
}

nlohmann::json ParseBody(const std::string& text) {
  if (text.empty()) return nullptr;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return text;  // e.g. "404 page not found" from a plain mux
  return j;
}

}  // namespace

std::string_view ContentType(PatchType type) {
  switch (type) {
    case PatchType::Merge:
      return "application/merge-patch+json";
    case PatchType::StrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::Json:
      return "application/json-patch+json";
    case PatchType::Apply:
      return "application/apply-patch+yaml";
  }
  return "application/json";
}

struct ApiClient::Impl {
  ClusterConfig config;
  ClientOptions options;
  TokenSource tokens;
  web::uri base;
  // Two clients because cpprest's timeout is per client: ordinary calls get
  // request_timeout, watches stream_idle_timeout. Each owns a keep-alive pool.
  std::mutex mu;
  std::shared_ptr<client::http_client> requests, streams;

  Impl(const ClusterConfig& c, const ClientOptions& o)
      : config(c), options(o), tokens(c.token, c.token_file, o.token_refresh), base(c.server) {}

  std::shared_ptr<client::http_client> Client(bool stream) {
    std::lock_guard<std::mutex> lock(mu);
    return stream ? streams : requests;
  }
  // After a transport failure: the pool may hold more connections the server (or a
  // load balancer) has closed, and cpprest can hand the same dead one out again, so
  // the whole pool goes and the next request dials afresh.
  void Reset(bool stream, const std::shared_ptr<client::http_client>& failed) {
    std::lock_guard<std::mutex> lock(mu);
    auto& slot = stream ? streams : requests;
    if (slot != failed) return;  // another thread replaced it already
    slot = std::make_shared<client::http_client>(
        base, MakeConfig(config, stream ? options.stream_idle_timeout : options.request_timeout));
  }

  http::http_request Build(Method m, const std::string& target, const nlohmann::json* body,
                           std::string_view content_type, const std::string& token) {
    http::http_request req(MethodName(m));
    req.set_request_uri(web::uri(target));
    req.headers().add("Accept", "application/json");
    req.headers().add("User-Agent",
                      options.user_agent.empty() ? "keel-controller/" KEEL_VERSION : options.user_agent);
    if (!token.empty()) req.headers().add("Authorization", "Bearer " + token);
    if (body) req.set_body(body->dump(), std::string(content_type));
    return req;
  }
};

ApiClient::ApiClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiClient::~ApiClient() = default;

const std::string& ApiClient::server() const { return impl_->config.server; }

Result<std::unique_ptr<ApiClient>> ApiClient::Create(const ClusterConfig& config, ClientOptions options) {
  std::unique_ptr<Impl> impl;
  try {
    boost::asio::ssl::context probe(boost::asio::ssl::context::tls_client);
    ConfigureTls(probe, config);
    impl = std::make_unique<Impl>(config, options);  // parses the server URL
    if (impl->base.scheme() != "https" && impl->base.scheme() != "http") {
      return Error{"server " + config.server + ": scheme must be https or http"};
    }
    impl->requests =
        std::make_shared<client::http_client>(impl->base, MakeConfig(config, options.request_timeout));
    impl->streams =
        std::make_shared<client::http_client>(impl->base, MakeConfig(config, options.stream_idle_timeout));
  } catch (const std::exception& e) {
    return Error{"API client for " + config.server + ": " + e.what()};
  }
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(impl)));
}

Result<Response> ApiClient::Request(Method method, const std::string& target, const nlohmann::json* body,
                                    std::string_view content_type, Canceller* cancel) {
  bool retried_transport = false, retried_token = false;
  for (;;) {
    const std::string token = impl_->tokens.Get();
    Response out;
    auto http = impl_->Client(false);
    try {
      auto req = impl_->Build(method, target, body, content_type, token);
      pplx::cancellation_token_source cts;
      CancelScope scope(cancel, [cts]() mutable { cts.cancel(); });
      http::http_response resp = http->request(req, cts.get_token()).get();
      out.code = resp.status_code();
      out.body = ParseBody(resp.extract_utf8string(true).get());
    } catch (const std::exception& e) {
      if (cancel && cancel->cancelled()) return Error{"cancelled: " + target + ": " + e.what()};
      impl_->Reset(false, http);
      // Once more on a fresh connection if that cannot repeat a write: a GET, or a
      // request that never got fully written (the server cannot have acted on it).
      const bool unsent =
          std::string_view(e.what()).find("Failed to write request") != std::string_view::npos;
      if ((method == Method::Get || unsent) && !retried_transport) {
        retried_transport = true;
        continue;
      }
      return Error{target + ": " + e.what()};
    }
    if (out.code == 401 && !retried_token && impl_->tokens.RefreshAfterUnauthorized(token)) {
      retried_token = true;
      continue;
    }
    return out;
  }
}

Result<Response> ApiClient::Stream(const std::string& target,
                                   const std::function<bool(std::string_view)>& on_line, Canceller* cancel) {
  for (int attempt = 0;; ++attempt) {
    const std::string token = impl_->tokens.Get();
    Response out;
    auto http = impl_->Client(true);
    try {
      auto req = impl_->Build(Method::Get, target, nullptr, "", token);
      pplx::cancellation_token_source cts;
      CancelScope scope(cancel, [cts]() mutable { cts.cancel(); });
      http::http_response resp = http->request(req, cts.get_token()).get();
      out.code = resp.status_code();
      if (out.code != 200) {
        out.body = ParseBody(resp.extract_utf8string(true).get());
      } else {
        auto in = resp.body();
        for (;;) {
          concurrency::streams::container_buffer<std::string> line;
          size_t n = in.read_line(line).get();
          if (n == 0) {
            if (in.is_eof()) break;
            continue;  // an empty line (keep-alive); not an event
          }
          if (!on_line(line.collection())) {
            cts.cancel();  // drop the connection rather than drain a stream nobody reads
            break;
          }
        }
      }
    } catch (const std::exception& e) {
      if (cancel && cancel->cancelled()) return Error{"cancelled: " + target + ": " + e.what()};
      impl_->Reset(true, http);
      return Error{target + ": " + e.what()};
    }
    if (cancel && cancel->cancelled()) return Error{"cancelled: " + target};
    if (out.code == 401 && attempt == 0 && impl_->tokens.RefreshAfterUnauthorized(token)) continue;
    return out;
  }
}

namespace {
Result<nlohmann::json> Fold(Result<Response> r) {
  if (!r) return Error{r.error()};
  if (!r->ok()) return Error{r->status().Describe()};
  return std::move(r->body);
}
}  // namespace

Result<nlohmann::json> ApiClient::Get(const std::string& target, Canceller* cancel) {
  return Fold(Request(Method::Get, target, nullptr, "application/json", cancel));
}
Result<nlohmann::json> ApiClient::Post(const std::string& target, const nlohmann::json& object) {
  return Fold(Request(Method::Post, target, &object));
}
Result<nlohmann::json> ApiClient::Put(const std::string& target, const nlohmann::json& object) {
  return Fold(Request(Method::Put, target, &object));
}
Result<nlohmann::json> ApiClient::Patch(const std::string& target, const nlohmann::json& patch,
                                        PatchType type) {
  return Fold(Request(Method::Patch, target, &patch, ContentType(type)));
}
Result<nlohmann::json> ApiClient::Delete(const std::string& target) {
  return Fold(Request(Method::Delete, target));
}

}  // namespace keel::k8s
