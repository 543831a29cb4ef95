// ConfigClient: the dataplane's end of the config channel (proto/keel/config/v1).
// Owns one thread that keeps a stream to the controller open: Hello with the held
// version, then for each Update validate → ApplyFn → ACK, or NACK and keep serving
// the previous snapshot. Reconnects with jittered exponential backoff; while
// disconnected it does nothing, so the last good snapshot keeps serving.
//
// Links no gRPC library itself: the binary brings gRPC::grpc++_unsecure (the
// dataplane must never load OpenSSL; see DEPS.md). grpcpp stays in the .cc.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"
#include "dataplane/config/held_config.h"
#include "keel/config/v1/config.pb.h"

namespace grpc {
class Channel;
class ChannelArguments;
class ClientContext;
}  // namespace grpc

namespace keel::dataplane::config {

// Compiles `snapshot` and swaps it in on every worker. An error is NACKed with its
// message as the reason, and the previous snapshot stays. Runs on the client's
// thread; Stop() waits for a running call to return.
using ApplyFn = std::function<Status(std::shared_ptr<const keel::config::v1::Snapshot>)>;
// The same for an endpoint delta: `next` is what the client holds once it is applied
// (the held snapshot, shared, with the delta overlaid; no copy of the world), `delta`
// what changed, so the callee can rebuild only the clusters it names.
using ApplyDeltaFn = std::function<Status(std::shared_ptr<const HeldConfig> next,
                                          const keel::config::v1::EndpointDelta& delta)>;

struct ClientOptions {
  // "host:port" of the controller's config stream.
  std::string controller_address;
  std::string node_id;
  std::string build_version;
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{10000};
  // Makes a fresh channel for every connection attempt. Empty: plaintext to
  // controller_address. For mutual TLS the binary passes one that dials with
  // BoringSSL, pumps a socketpair and returns grpc::CreateCustomInsecureChannelFromFd
  // over the other end (a fd channel dies with its connection, hence per attempt),
  // with arguments prepared by ConfigClient::SetChannelArguments. Returning null
  // counts as a failed attempt. It runs on the client thread: bound its dial time,
  // or Stop() waits for it.
  std::function<std::shared_ptr<grpc::Channel>()> channel_factory;
  // Receives endpoint deltas when set; empty: deltas go to ApplyFn as merged snapshots
  // (HeldConfig::Materialize, a copy per delta).
  ApplyDeltaFn apply_delta;
};

class ConfigClient {
 public:
  ConfigClient(ClientOptions options, ApplyFn apply);
  ~ConfigClient();  // Stop()s.
  ConfigClient(const ConfigClient&) = delete;
  ConfigClient& operator=(const ConfigClient&) = delete;

  // Starts the stream thread. Once per instance.
  void Start();
  // Cancels the stream, interrupts a backoff wait and joins. Idempotent.
  void Stop();

  // Channel arguments the config stream needs: snapshots above gRPC's 4 MiB
  // default receive limit, keepalive to notice a vanished controller, no shared
  // subchannel (its own reconnect backoff would stack on ours).
  static void SetChannelArguments(grpc::ChannelArguments* args);

  // For readiness, metrics and the admin config dump; all thread-safe.
  bool connected() const { return connected_.load(std::memory_order_acquire); }
  bool has_snapshot() const { return has_snapshot_.load(std::memory_order_acquire); }
  std::string version() const;
  // What is held: the last full snapshot plus the deltas applied since.
  std::shared_ptr<const HeldConfig> held() const;
  // The held config as one snapshot (HeldConfig::Materialize: a copy once deltas were
  // applied). For the config dump and tests.
  std::shared_ptr<const keel::config::v1::Snapshot> snapshot() const;
  // Unix ms of the last successful apply; 0 before the first.
  int64_t last_apply_unix_ms() const { return last_apply_unix_ms_.load(std::memory_order_relaxed); }
  uint64_t nack_count() const { return nacks_.load(std::memory_order_relaxed); }
  uint64_t full_applied() const { return full_applied_.load(std::memory_order_relaxed); }
  uint64_t delta_applied() const { return delta_applied_.load(std::memory_order_relaxed); }
  // Streams established since Start (1 + reconnects).
  uint64_t connections() const { return connections_.load(std::memory_order_relaxed); }

 private:
  void Run();
  // One stream from dial to end; true when it was established (backoff resets).
  // `quiet`: a failure to connect is not logged (already logged for this outage).
  bool RunStream(bool quiet);
  keel::config::v1::DataplaneMessage HandleUpdate(keel::config::v1::Update* update);

  const ClientOptions options_;
  const ApplyFn apply_;
  mutable std::mutex mu_;  // held_, stopping_, context_
  std::condition_variable cv_;
  std::shared_ptr<const HeldConfig> held_;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;
  std::thread thread_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> has_snapshot_{false};
  std::atomic<int64_t> last_apply_unix_ms_{0};
  std::atomic<uint64_t> nacks_{0};
  std::atomic<uint64_t> full_applied_{0};
  std::atomic<uint64_t> delta_applied_{0};
  std::atomic<uint64_t> connections_{0};
};

}  // namespace keel::dataplane::config
