// ConfigServer on gRPC's synchronous API: each stream's handler thread writes, a
// companion thread reads ACK/NACKs. Two threads per dataplane is cheap at the scale
// of a dataplane fleet and keeps every step a plain blocking call.
#include "controller/serve/config_server.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "common/log.h"
#include "keel/config/v1/config.grpc.pb.h"

namespace keel::serve {

namespace v1 = ::keel::config::v1;

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

Result<TlsOptions> TlsOptions::FromFiles(const std::string& cert_path, const std::string& key_path,
                                         const std::string& ca_path) {
  TlsOptions tls;
  auto cert = ReadFile(cert_path);
  if (!cert) return Error{cert.error()};
  auto key = ReadFile(key_path);
  if (!key) return Error{key.error()};
  auto ca = ReadFile(ca_path);
  if (!ca) return Error{ca.error()};
  tls.cert_chain_pem = std::move(cert.value());
  tls.private_key_pem = std::move(key.value());
  tls.client_ca_pem = std::move(ca.value());
  return tls;
}

class ConfigServer::Impl final : public v1::ConfigService::Service {
 public:
  ~Impl() override { Stop(); }

  Status Start(const ServerOptions& options) {
    std::lock_guard<std::mutex> lock(lifecycle_mu_);
    if (started_) return Error{"config server already started"};
    started_ = true;
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.listen_address, MakeCredentials(options), &port_);
    builder.RegisterService(this);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options.keepalive_time.count()));
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                               static_cast<int>(options.keepalive_timeout.count()));
    // Config streams idle for hours; gRPC would stop pinging after 2 data-less pings.
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                               static_cast<int>(options.keepalive_min_client_interval.count()));
    server_ = builder.BuildAndStart();
    if (!server_ || port_ == 0) {
      server_.reset();
      return Error{"config server cannot listen on " + options.listen_address};
    }
    KEEL_LOG(Info, "serve") << "config stream listening on " << options.listen_address << " (port " << port_
                            << (options.tls ? ", mutual TLS)" : ", PLAINTEXT)");
    return Status::Ok();
  }

  void Stop() {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      for (Session* session : sessions_) session->Close();
    }
    if (server_) {
      // Deadline "now": calls still blocked (a Write to a dataplane that stopped
      // reading, a stream that never sent Hello) are cancelled at once.
      server_->Shutdown(std::chrono::system_clock::now());
      server_->Wait();
      server_.reset();
    }
  }

  void Publish(std::shared_ptr<const v1::Snapshot> snapshot) {
    if (!snapshot) return;
    std::lock_guard<std::mutex> publishing(publish_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (current_ && current_->version() == snapshot->version()) return;
    }
    auto entry = std::make_shared<const PublishedSnapshot>(std::move(snapshot));
    std::shared_ptr<const PublishedSnapshot> previous;  // freed after unlocking: a big one takes ms
    std::lock_guard<std::mutex> lock(mu_);
    previous = std::exchange(current_, entry);
    for (Session* session : sessions_) session->Offer(entry);
  }

  bool PublishEndpointDelta(const v1::EndpointDelta& delta) {
    std::lock_guard<std::mutex> publishing(publish_mu_);
    std::shared_ptr<const PublishedSnapshot> base;
    {
      std::lock_guard<std::mutex> lock(mu_);
      base = current_;
    }
    if (!base || base->version() != delta.base_version()) return false;
    if (delta.version() == base->version()) return true;
    auto entry = std::make_shared<const PublishedSnapshot>(*base, delta);
    if (!entry->ok()) return false;
    std::shared_ptr<const PublishedSnapshot> previous;  // freed after unlocking
    std::lock_guard<std::mutex> lock(mu_);
    if (current_ != base) return false;  // a full Publish slipped in
    previous = std::exchange(current_, entry);
    for (Session* session : sessions_) session->Offer(entry);
    return true;
  }

  grpc::Status Stream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ControllerMessage, v1::DataplaneMessage>* stream) override {
    v1::DataplaneMessage first;
    if (!stream->Read(&first)) return {grpc::StatusCode::CANCELLED, "stream ended before Hello"};
    if (!first.has_hello()) return {grpc::StatusCode::INVALID_ARGUMENT, "first message must be Hello"};
    Session session(first.hello(), context->peer(), &counters_);
    if (!Register(&session)) return {grpc::StatusCode::UNAVAILABLE, "controller is stopping"};
    // Tells the dataplane the stream is established even when nothing is due yet
    // (Hello.held_version == current): it reports "connected" from this key.
    context->AddInitialMetadata("keel-contract-revision", "1");
    stream->SendInitialMetadata();

    std::thread reader([&] {
      v1::DataplaneMessage message;
      while (stream->Read(&message)) {
        if (!session.OnMessage(message)) break;
      }
      session.Close();
    });
    Session::Outgoing out;
    while (session.WaitNext(&out)) {
      if (!stream->Write(out.message())) break;
    }
    session.Close();
    context->TryCancel();  // unblocks the reader's Read
    reader.join();
    Unregister(&session);
    return grpc::Status::OK;
  }

  int port() const { return port_; }

  std::string current_version() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_ ? current_->version() : std::string();
  }

  std::vector<DataplaneInfo> Dataplanes() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<DataplaneInfo> out;
    out.reserve(sessions_.size());
    for (const Session* session : sessions_) out.push_back(session->Info());
    return out;
  }

  ServerStats Stats() const {
    ServerStats stats;
    stats.pushes_full = counters_.pushes_full.load(std::memory_order_relaxed);
    stats.pushes_delta = counters_.pushes_delta.load(std::memory_order_relaxed);
    stats.acks = counters_.acks.load(std::memory_order_relaxed);
    stats.nacks = counters_.nacks.load(std::memory_order_relaxed);
    stats.connected = counters_.connected.load(std::memory_order_relaxed);
    stats.current_version = current_version();
    return stats;
  }

 private:
  // Mutual-TLS hook: plaintext unless options.tls is set.
  static std::shared_ptr<grpc::ServerCredentials> MakeCredentials(const ServerOptions& options) {
    if (!options.tls) return grpc::InsecureServerCredentials();
    grpc::SslServerCredentialsOptions ssl(options.tls->require_client_cert
                                              ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                              : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    ssl.pem_root_certs = options.tls->client_ca_pem;
    ssl.pem_key_cert_pairs.push_back({options.tls->private_key_pem, options.tls->cert_chain_pem});
    return grpc::SslServerCredentials(ssl);
  }

  bool Register(Session* session) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    session->Start(current_);
    sessions_.insert(session);
    counters_.connected.fetch_add(1, std::memory_order_relaxed);
    DataplaneInfo info = session->Info();
    KEEL_LOG(Info, "serve") << "dataplane " << info.node_id << " connected from " << info.peer << " (build "
                            << info.build_version << ", holds '" << info.acked_version << "')";
    return true;
  }

  void Unregister(Session* session) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(session);
    counters_.connected.fetch_sub(1, std::memory_order_relaxed);
    KEEL_LOG(Info, "serve") << "dataplane " << session->node_id() << " disconnected";
  }

  std::mutex lifecycle_mu_;  // Start/Stop
  std::mutex publish_mu_;    // serializes Publish so the newest call wins
  mutable std::mutex mu_;    // sessions_, current_, stopping_
  std::set<Session*> sessions_;
  std::shared_ptr<const PublishedSnapshot> current_;
  bool stopping_ = false;
  bool started_ = false;
  int port_ = 0;
  ServerCounters counters_;
  std::unique_ptr<grpc::Server> server_;
};

ConfigServer::ConfigServer() : impl_(std::make_unique<Impl>()) {}
ConfigServer::~ConfigServer() { impl_->Stop(); }
Status ConfigServer::Start(const ServerOptions& options) { return impl_->Start(options); }
int ConfigServer::port() const { return impl_->port(); }
void ConfigServer::Stop() { impl_->Stop(); }
void ConfigServer::Publish(std::shared_ptr<const v1::Snapshot> snapshot) {
  impl_->Publish(std::move(snapshot));
}

bool ConfigServer::PublishEndpointDelta(const v1::EndpointDelta& delta) {
  return impl_->PublishEndpointDelta(delta);
}
std::string ConfigServer::current_version() const { return impl_->current_version(); }
std::vector<DataplaneInfo> ConfigServer::Dataplanes() const { return impl_->Dataplanes(); }
ServerStats ConfigServer::Stats() const { return impl_->Stats(); }

}  // namespace keel::serve
