// Per-dataplane stream state machine: pending → in flight → ACKed, NACK handling.
#include "controller/serve/session.h"

#include <utility>

#include "common/log.h"

namespace keel::serve {

namespace v1 = ::keel::config::v1;

Session::Session(const v1::Hello& hello, std::string peer, ServerCounters* counters)
    : node_id_(hello.node_id()), counters_(counters) {
  info_.node_id = hello.node_id();
  info_.build_version = hello.build_version();
  info_.peer = std::move(peer);
  info_.acked_version = hello.held_version();
  info_.connected_since = std::chrono::system_clock::now();
}

void Session::Start(std::shared_ptr<const PublishedSnapshot> current) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!current) return;
  if (current->version() == info_.acked_version) {
    // Contract: a dataplane that already serves the current version (e.g. after a
    // controller restart) is not churned; deltas may be based on it from now on.
    acked_ = std::move(current);
    return;
  }
  pending_ = std::move(current);
  cv_.notify_all();
}

void Session::Offer(std::shared_ptr<const PublishedSnapshot> entry) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = std::move(entry);
  }
  cv_.notify_all();
}

bool Session::OnMessage(const v1::DataplaneMessage& message) {
  switch (message.kind_case()) {
    case v1::DataplaneMessage::kAck:
      OnAck(message.ack());
      return true;
    case v1::DataplaneMessage::kNack:
      OnNack(message.nack());
      return true;
    default:
      KEEL_LOG(Warn, "serve") << "dataplane " << node_id_ << ": unexpected message kind "
                              << message.kind_case() << " mid-stream";
      return false;
  }
}

void Session::OnAck(const v1::Ack& ack) {
  counters_->acks.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  ++info_.acks;
  if (!inflight_ || inflight_->version() != ack.version()) {
    KEEL_LOG(Warn, "serve") << "dataplane " << node_id_ << " ACKed version " << ack.version()
                            << " that is not in flight; ignored";
    return;
  }
  acked_ = std::move(inflight_);
  inflight_.reset();
  info_.acked_version = acked_->version();
  force_full_ = false;
  cv_.notify_all();
}

void Session::OnNack(const v1::Nack& nack) {
  counters_->nacks.fetch_add(1, std::memory_order_relaxed);
  KEEL_LOG(Warn, "serve") << "dataplane " << node_id_ << " NACKed version " << nack.version() << " (serving '"
                          << nack.serving_version() << "'): " << nack.reason();
  std::lock_guard<std::mutex> lock(mu_);
  ++info_.nacks;
  info_.last_nack_version = nack.version();
  info_.last_nack_reason = nack.reason();
  if (!inflight_ || inflight_->version() != nack.version()) return;
  if (inflight_is_delta_) {
    // The dataplane could not apply the delta (usually: it holds another base).
    // Resend the same target in full, unless something newer is already queued.
    force_full_ = true;
    if (!pending_) pending_ = inflight_;
  }
  // A NACKed full snapshot is not retried: the same bytes would fail the same way.
  inflight_.reset();
  if (acked_ && acked_->version() != nack.serving_version()) {
    // Our idea of what it holds is wrong; no delta may be based on it.
    acked_.reset();
    info_.acked_version = nack.serving_version();
  }
  cv_.notify_all();
}

bool Session::WaitNext(Outgoing* out) {
  std::shared_ptr<const PublishedSnapshot> base;
  {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return closed_ || (!inflight_ && pending_); });
      if (closed_) return false;
      out->entry = std::move(pending_);
      pending_.reset();
      if (info_.acked_version != out->entry->version()) break;
    }
    if (!force_full_) base = acked_;
    inflight_ = out->entry;
  }
  // Built outside the lock: O(clusters) digest compares plus copies of the changed
  // endpoint lists; ACKs for this stream cannot arrive before it is written anyway.
  out->delta = base ? MakeEndpointDelta(*base, *out->entry) : std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  inflight_is_delta_ = out->delta.has_value();
  if (inflight_is_delta_) {
    ++info_.pushes_delta;
    counters_->pushes_delta.fetch_add(1, std::memory_order_relaxed);
  } else {
    ++info_.pushes_full;
    counters_->pushes_full.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

void Session::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

DataplaneInfo Session::Info() const {
  std::lock_guard<std::mutex> lock(mu_);
  DataplaneInfo info = info_;
  if (inflight_) info.inflight_version = inflight_->version();
  return info;
}

}  // namespace keel::serve
