// ConfigClient on gRPC's synchronous API. The dataplane only ever writes in answer
// to what it read (Hello first, then one ACK/NACK per Update), so one thread per
// client suffices: Read, apply, Write.
#include "dataplane/config/config_client.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "common/log.h"
#include "dataplane/config/backoff.h"
#include "dataplane/config/validate.h"
#include "keel/config/v1/config.grpc.pb.h"

namespace keel::dataplane::config {

namespace v1 = ::keel::config::v1;

namespace {

// The controller sends this initial metadata as soon as it accepted the Hello, so
// "connected" means a live stream even when no update is due.
constexpr char kContractMetadata[] = "keel-contract-revision";
constexpr uint32_t kContractRevision = 1;

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ConfigClient::ConfigClient(ClientOptions options, ApplyFn apply)
    : options_(std::move(options)), apply_(std::move(apply)) {}

ConfigClient::~ConfigClient() { Stop(); }

void ConfigClient::SetChannelArguments(grpc::ChannelArguments* args) {
  args->SetMaxReceiveMessageSize(256 << 20);
  args->SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args->SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  // The stream may idle for hours; by default gRPC stops pinging after 2 data-less pings.
  args->SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args->SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args->SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args->SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
}

void ConfigClient::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void ConfigClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (context_) context_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string ConfigClient::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_ ? held_->version() : std::string();
}

std::shared_ptr<const HeldConfig> ConfigClient::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_;
}

std::shared_ptr<const v1::Snapshot> ConfigClient::snapshot() const {
  std::shared_ptr<const HeldConfig> h = held();
  return h ? h->Materialize() : nullptr;
}

void ConfigClient::Run() {
  Backoff backoff(options_.backoff_initial, options_.backoff_max);
  int failures = 0;  // attempts in a row that never got a stream
  for (;;) {
    bool established = RunStream(/*quiet=*/failures > 0);
    connected_.store(false, std::memory_order_release);
    if (established) {
      backoff.Reset();
      failures = 0;
    } else {
      ++failures;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, backoff.Next(), [this] { return stopping_; })) return;
  }
}

bool ConfigClient::RunStream(bool quiet) {
  std::shared_ptr<grpc::Channel> channel;
  if (options_.channel_factory) {
    channel = options_.channel_factory();
  } else {
    grpc::ChannelArguments args;
    SetChannelArguments(&args);
    channel =
        grpc::CreateCustomChannel(options_.controller_address, grpc::InsecureChannelCredentials(), args);
  }
  if (!channel) {
    KEEL_LOG(Warn, "config") << "no channel to the controller; retrying";
    return false;
  }
  auto stub = v1::ConfigService::NewStub(channel);
  grpc::ClientContext context;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    context_ = &context;
  }
  auto stream = stub->Stream(&context);

  v1::DataplaneMessage hello;
  hello.mutable_hello()->set_node_id(options_.node_id);
  hello.mutable_hello()->set_build_version(options_.build_version);
  hello.mutable_hello()->set_held_version(version());
  hello.mutable_hello()->set_contract_revision(kContractRevision);
  bool established = false;
  bool ended_by_server = false;
  if (stream->Write(hello)) {
    stream->WaitForInitialMetadata();
    established = context.GetServerInitialMetadata().count(kContractMetadata) > 0;
  }
  if (established) {
    connections_.fetch_add(1, std::memory_order_relaxed);
    connected_.store(true, std::memory_order_release);
    KEEL_LOG(Info, "config") << "config stream to " << options_.controller_address
                             << " established (holding '" << hello.hello().held_version() << "')";
    v1::ControllerMessage message;
    ended_by_server = true;
    while (stream->Read(&message)) {
      if (!message.has_update()) continue;
      if (!stream->Write(HandleUpdate(message.mutable_update()))) {
        ended_by_server = false;
        break;
      }
    }
  }
  // Finish would wait for a server that is still talking (a failed Write, a peer
  // that is not a keel controller); a cancelled call ends at once.
  if (!ended_by_server) context.TryCancel();
  grpc::Status status = stream->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    context_ = nullptr;
    if (stopping_) return established;
  }
  // One line per outage, not one per backoff step.
  if (established || !quiet) {
    KEEL_LOG(Warn, "config") << "config stream to " << options_.controller_address
                             << (established ? " ended: " : " failed: ") << status.error_message()
                             << " (code " << status.error_code() << "); retrying with backoff";
  }
  return established;
}

v1::DataplaneMessage ConfigClient::HandleUpdate(v1::Update* update) {
  std::shared_ptr<const HeldConfig> held = this->held();
  std::shared_ptr<const HeldConfig> next;
  std::string version;
  Status status;
  bool is_delta = false;
  if (update->has_snapshot()) {
    version = update->snapshot().version();
    if (held && held->version() == version) {
      next = held;  // same content by the version rule: ACK without re-applying
    } else {
      status = ValidateSnapshot(update->snapshot());
      if (status) {
        next = std::make_shared<const HeldConfig>(
            std::make_shared<const v1::Snapshot>(std::move(*update->mutable_snapshot())));
      }
    }
  } else if (update->has_endpoint_delta()) {
    is_delta = true;
    version = update->endpoint_delta().version();
    if (!held) {
      status = Error{"base version mismatch: delta base '" + update->endpoint_delta().base_version() +
                     "', holding nothing"};
    } else {
      // Shares the held snapshot; only the named clusters' endpoints are new.
      auto applied = held->Apply(update->endpoint_delta());
      if (applied) {
        next = std::move(applied.value());
      } else {
        status = Error{applied.error()};
      }
    }
  } else {
    status = Error{"update carries neither a snapshot nor a delta"};
  }
  if (status && next != held) {
    if (!is_delta) {
      status = apply_(next->base());
    } else if (options_.apply_delta) {
      status = options_.apply_delta(next, update->endpoint_delta());
    } else {
      status = apply_(next->Materialize());
    }
  }

  v1::DataplaneMessage reply;
  if (!status) {
    nacks_.fetch_add(1, std::memory_order_relaxed);
    KEEL_LOG(Warn, "config") << "rejected version " << version << ": " << status.error();
    v1::Nack* nack = reply.mutable_nack();
    nack->set_version(version);
    nack->set_reason(status.error());
    nack->set_serving_version(held ? held->version() : std::string());
    return reply;
  }
  if (next != held) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = next;
    }
    has_snapshot_.store(true, std::memory_order_release);
    last_apply_unix_ms_.store(NowUnixMs(), std::memory_order_relaxed);
    (is_delta ? delta_applied_ : full_applied_).fetch_add(1, std::memory_order_relaxed);
    KEEL_LOG(Debug, "config") << "applied " << (is_delta ? "delta" : "snapshot") << " " << version;
  }
  reply.mutable_ack()->set_version(version);
  return reply;
}

}  // namespace keel::dataplane::config
