// Http1Connection::FlushSoon: a response head waits for the end of the event-loop
// turn before it is written, because the upstream read that carried it usually
// carries the body too, and head + body then leave in one send instead of two
// (measured: 3.0 -> 2.0 sends per keep-alive request, bench/harness/perrequest.py).
// A head whose body comes later still leaves within the same turn.
#include "dataplane/proxy/http1_connection.h"
#include "dataplane/proxy/worker.h"

namespace keel::proxy {

void Http1Connection::FlushSoon() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // Safe to capture `this`: the connection is only ever deleted by a Defer queued
  // after this one (Close, hand-off to h2), or after Run() has drained the queue.
  worker_->loop().Defer([this] {
    flush_scheduled_ = false;
    if (state_ != State::kClosed && !out_.empty()) Flush();
  });
}

}  // namespace keel::proxy
