// Per-dataplane stream state on the controller: what the dataplane holds (its last
// ACKed snapshot), what is in flight, and the newest update still to send. No gRPC
// here: the server's stream handler feeds it messages and writes what it returns.
//
// One update is in flight per stream at a time. While it awaits its ACK/NACK, newer
// publishes replace the pending slot (only the newest matters), so a slow dataplane
// costs the others nothing and itself only the latest state. Deltas are always taken
// against the ACKed snapshot, which is what the dataplane really holds.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "controller/serve/published.h"
#include "keel/config/v1/config.pb.h"

namespace keel::serve {

// Server-wide counters for metrics; sessions update them as events happen.
struct ServerCounters {
  std::atomic<uint64_t> pushes_full{0};
  std::atomic<uint64_t> pushes_delta{0};
  std::atomic<uint64_t> acks{0};
  std::atomic<uint64_t> nacks{0};
  std::atomic<uint64_t> connected{0};
};

// One dataplane as the admin endpoint and metrics see it.
struct DataplaneInfo {
  std::string node_id;
  std::string build_version;
  std::string peer;
  // Version the dataplane serves as far as the controller knows (last ACK, or the
  // Hello's held_version when it matched); empty when unknown.
  std::string acked_version;
  // Sent and not yet ACKed/NACKed; empty when idle.
  std::string inflight_version;
  std::string last_nack_version;
  std::string last_nack_reason;
  std::chrono::system_clock::time_point connected_since;
  uint64_t pushes_full = 0;
  uint64_t pushes_delta = 0;
  uint64_t acks = 0;
  uint64_t nacks = 0;
};

class Session {
 public:
  // An update ready to write; keeps the published snapshot alive while writing.
  struct Outgoing {
    std::shared_ptr<const PublishedSnapshot> entry;
    std::optional<config::v1::ControllerMessage> delta;
    const config::v1::ControllerMessage& message() const { return delta ? *delta : entry->FullMessage(); }
  };

  Session(const config::v1::Hello& hello, std::string peer, ServerCounters* counters);

  // Called once, before any Offer, with the server's current snapshot (may be null).
  // When the Hello's held_version equals it, nothing is sent until the next change.
  void Start(std::shared_ptr<const PublishedSnapshot> current);
  // A newer snapshot was published; replaces whatever was pending.
  void Offer(std::shared_ptr<const PublishedSnapshot> entry);
  // An Ack or Nack from the dataplane. Returns false for a message that breaks the
  // protocol (a second Hello, an empty message).
  bool OnMessage(const config::v1::DataplaneMessage& message);
  // Blocks until an update is due (full or delta), or returns false once closed.
  bool WaitNext(Outgoing* out);
  // Wakes WaitNext for good (stream ended or server stopping).
  void Close();

  DataplaneInfo Info() const;
  const std::string& node_id() const { return node_id_; }

 private:
  void OnAck(const config::v1::Ack& ack);
  void OnNack(const config::v1::Nack& nack);

  const std::string node_id_;
  ServerCounters* const counters_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  DataplaneInfo info_;  // counters and NACK fields; versions derive from the slots
  std::shared_ptr<const PublishedSnapshot> acked_;
  std::shared_ptr<const PublishedSnapshot> inflight_;
  bool inflight_is_delta_ = false;
  std::shared_ptr<const PublishedSnapshot> pending_;
  // After a NACKed delta: full snapshots only, until the next ACK.
  bool force_full_ = false;
  bool closed_ = false;
};

}  // namespace keel::serve
