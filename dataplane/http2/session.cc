// nghttp2 server session glue: options and SETTINGS, callbacks → SessionHandler,
// per-stream response queues behind deferred data providers, manual flow control.
#include "dataplane/http2/session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "common/log.h"
#include "dataplane/http2/nghttp2_glue.h"

namespace keel::h2 {
namespace {

using glue::Nv;
// Below this many queued bytes a stream that paused its upstream may resume it.
constexpr size_t kLowWater = 64 * 1024;

uint64_t SteadyMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

struct ServerSession::Callbacks {
  static ServerSession* Self(void* user_data) { return static_cast<ServerSession*>(user_data); }
  static Stream* Get(nghttp2_session* session, int32_t id) {
    return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, id));
  }

  static int OnBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    ServerSession* self = Self(user_data);
    Stream* s = self->handler_->NewStream(frame->hd.stream_id);
    s->headers_.Reset(self->options_.max_header_list_bytes, self->limits_.max_headers);
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, s);
    self->open_streams_++;
    self->stats_.streams++;
    return 0;
  }

  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void*) {
    Stream* s = Get(session, frame->hd.stream_id);
    // Trailers are decoded (HPACK state must follow) but dropped: the HTTP/1.1
    // upstream gets a chunked body without a trailer section.
    if (s == nullptr || s->closed_ || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    s->headers_.Add({reinterpret_cast<const char*>(name), namelen},
                    {reinterpret_cast<const char*>(value), valuelen});
    return 0;
  }

  static int OnFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    ServerSession* self = Self(user_data);
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        Stream* s = Get(session, frame->hd.stream_id);
        if (s == nullptr || s->closed_) break;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
          self->Dispatch(s, end_stream);
        } else if (end_stream && s->accepted_ && !s->request_ended_) {
          s->request_ended_ = true;
          self->handler_->OnRequestEnd(s);
        }
        break;
      }
      case NGHTTP2_DATA: {
        Stream* s = Get(session, frame->hd.stream_id);
        if (end_stream && s != nullptr && !s->closed_ && s->accepted_ && !s->request_ended_) {
          s->request_ended_ = true;
          self->handler_->OnRequestEnd(s);
        }
        break;
      }
      case NGHTTP2_RST_STREAM:
        self->CountReset();
        break;
      default:
        break;
    }
    return 0;
  }

  static int OnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user_data) {
    Stream* s = Get(session, stream_id);
    if (s == nullptr || s->closed_ || !s->accepted_) {
      nghttp2_session_consume(session, stream_id, len);  // nobody wants it
      return 0;
    }
    s->unconsumed_ += len;
    Self(user_data)->handler_->OnRequestBody(s, {reinterpret_cast<const char*>(data), len});
    return 0;
  }

  static int OnStreamClose(nghttp2_session* session, int32_t stream_id, uint32_t error_code,
                           void* user_data) {
    Stream* s = Get(session, stream_id);
    if (s == nullptr || s->closed_) return 0;
    ServerSession* self = Self(user_data);
    // Bytes the handler never consumed still occupy the connection window.
    if (s->unconsumed_ > 0) nghttp2_session_consume_connection(session, s->unconsumed_);
    s->unconsumed_ = 0;
    self->queued_bytes_ -= s->out_.size();
    s->out_.Clear();
    s->closed_ = true;
    self->open_streams_--;
    nghttp2_session_set_stream_user_data(session, stream_id, nullptr);
    self->handler_->OnStreamClose(s, error_code);
    return 0;
  }

  static int OnFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void*) {
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
      return 0;
    }
    Stream* s = Get(session, frame->hd.stream_id);
    // RFC 9113 §8.1: a complete response before the complete request; ask the
    // client to stop sending the body rather than read and drop all of it.
    if (s != nullptr && !s->closed_ && !s->request_ended_) {
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
    }
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session* session, int32_t, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source* source, void* user_data) {
    Stream* s = static_cast<Stream*>(source->ptr);
    size_t n = std::min(length, s->out_.size());
    if (n > 0) {
      std::memcpy(buf, s->out_.view().data(), n);
      s->out_.Consume(n);
      Self(user_data)->queued_bytes_ -= n;
    }
    if (s->out_.empty()) {
      if (s->out_ended_) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        s->out_.Shrink();
        if (s->trailers_.size() > 0) {
          // END_STREAM goes with the trailer HEADERS frame instead (RFC 9113 §8.1).
          *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
          std::vector<nghttp2_nv> nva;
          nva.reserve(s->trailers_.size());
          for (size_t i = 0; i < s->trailers_.size(); ++i) {
            nva.push_back(Nv(s->trailers_.at(i).name, s->trailers_.at(i).value));
          }
          if (nghttp2_submit_trailer(session, s->id_, nva.data(), nva.size()) != 0) {
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
          }
          s->trailers_.Clear();
        }
      } else if (n == 0) {
        s->deferred_ = true;
        return NGHTTP2_ERR_DEFERRED;
      }
    }
    if (s->notify_drained_ && s->out_.size() < kLowWater) {
      s->notify_drained_ = false;
      Self(user_data)->handler_->OnStreamDrained(s);
    }
    return static_cast<ssize_t>(n);
  }

  static int OnError(nghttp2_session*, int code, const char* msg, size_t len, void*) {
    KEEL_LOG(Debug, "http2") << "nghttp2 (" << code << "): " << std::string_view(msg, len);
    return 0;
  }
};

ServerSession::ServerSession(const SessionOptions& options, const http1::Limits& limits,
                             SessionHandler* handler)
    : options_(options), limits_(limits), handler_(handler) {
  options_.initial_window_bytes = std::clamp<uint32_t>(options_.initial_window_bytes, 64 * 1024, 1024 * 1024);
  options_.connection_window_bytes =
      std::max(options_.connection_window_bytes, options_.initial_window_bytes);

  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, Callbacks::OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, Callbacks::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, Callbacks::OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, Callbacks::OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, Callbacks::OnStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, Callbacks::OnFrameSend);
  nghttp2_session_callbacks_set_error_callback2(cbs, Callbacks::OnError);

  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_continuations(opt, options_.max_continuations);
  nghttp2_option_set_max_outbound_ack(opt, options_.max_outbound_ack);
  nghttp2_option_set_max_settings(opt, options_.max_settings);
  // nghttp2's own reset limiter answers INTERNAL_ERROR; keep it as a backstop above ours.
  uint64_t resets = options_.max_resets_per_second;
  nghttp2_option_set_stream_reset_rate_limit(opt, std::max<uint64_t>(1000, 4 * resets),
                                             std::max<uint64_t>(33, resets));
  nghttp2_session_server_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
}

ServerSession::~ServerSession() { nghttp2_session_del(session_); }

void ServerSession::Start() {
  const nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.initial_window_bytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, options_.max_header_list_bytes},
      // RFC 9218 §2.1: no RFC 7540 priority tree to build or to be attacked through.
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(options_.connection_window_bytes));
}

bool ServerSession::StartUpgraded(std::string_view settings, const http1::RequestHead& request) {
  Start();
  int rv = nghttp2_session_upgrade2(session_, reinterpret_cast<const uint8_t*>(settings.data()),
                                    settings.size(), request.method == "HEAD", nullptr);
  if (rv != 0) {
    KEEL_LOG(Debug, "http2") << "h2c upgrade refused: " << nghttp2_strerror(rv);
    return false;
  }
  // The server side ignores upgrade2's stream_user_data argument.
  Stream* s = handler_->NewStream(1);
  s->headers_.Reset(options_.max_header_list_bytes, limits_.max_headers);
  nghttp2_session_set_stream_user_data(session_, 1, s);
  open_streams_++;
  stats_.streams++;
  s->headers_.AddHttp1(request);
  Dispatch(s, /*end_stream=*/true);
  return true;
}

void ServerSession::Dispatch(Stream* s, bool end_stream) {
  if (end_stream) s->request_ended_ = true;
  http1::RequestHead head;
  HeadVerdict verdict = s->headers_.Finish(end_stream, &head);
  if (verdict == HeadVerdict::kMalformed) {
    s->headers_.Release();
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id_, NGHTTP2_PROTOCOL_ERROR);
    return;
  }
  s->accepted_ = true;
  handler_->OnRequest(s, verdict, head, end_stream);
  s->headers_.Release();
}

void ServerSession::CountReset() {
  stats_.client_resets++;
  uint64_t now = SteadyMs();
  if (now - reset_window_start_ms_ >= 1000) {
    reset_window_start_ms_ = now;
    resets_in_window_ = 0;
  }
  if (++resets_in_window_ > options_.max_resets_per_second && !stats_.enhance_your_calm) {
    stats_.enhance_your_calm = true;
    KEEL_LOG(Info, "http2") << "client reset more than " << options_.max_resets_per_second
                            << " streams in a second: GOAWAY(ENHANCE_YOUR_CALM)";
    nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
  }
}

bool ServerSession::Receive(std::string_view data) {
  ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data.data()), data.size());
  if (rv < 0) {
    KEEL_LOG(Debug, "http2") << "session error: " << nghttp2_strerror(static_cast<int>(rv));
    bool calm = rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS || rv == NGHTTP2_ERR_FLOODED;
    if (calm) stats_.enhance_your_calm = true;
    nghttp2_session_terminate_session(session_, calm ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
    return false;
  }
  tracker_.Feed(data);
  return true;
}

bool ServerSession::Send(net::Buffer* out, size_t limit) {
  return glue::SendInto(session_, out, limit, "downstream");
}

bool ServerSession::WantRead() const { return nghttp2_session_want_read(session_) != 0; }
bool ServerSession::WantWrite() const { return nghttp2_session_want_write(session_) != 0; }

bool ServerSession::Respond(Stream* s, int status, const FieldList& fields, bool has_body) {
  if (s->closed_ || s->responded_) return false;
  s->responded_ = true;
  std::string code = std::to_string(status);
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size() + 1);
  nva.push_back(Nv(":status", code));
  for (size_t i = 0; i < fields.size(); ++i) nva.push_back(Nv(fields.at(i).name, fields.at(i).value));
  nghttp2_data_provider prd{};
  prd.source.ptr = s;
  prd.read_callback = Callbacks::ReadBody;
  if (!has_body) s->out_ended_ = true;
  int rv = nghttp2_submit_response(session_, s->id_, nva.data(), nva.size(), has_body ? &prd : nullptr);
  return rv == 0;
}

void ServerSession::Inform(Stream* s, int status) {
  if (s->closed_ || s->responded_) return;
  std::string code = std::to_string(status);
  nghttp2_nv nv = Nv(":status", code);
  nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, s->id_, nullptr, &nv, 1, nullptr);
}

void ServerSession::Resume(Stream* s) {
  if (!s->deferred_ || s->closed_) return;
  s->deferred_ = false;
  nghttp2_session_resume_data(session_, s->id_);
}

void ServerSession::QueueBody(Stream* s, std::string_view data) {
  if (s->closed_ || s->out_ended_ || data.empty()) return;
  s->out_.Append(data);
  queued_bytes_ += data.size();
  Resume(s);
}

void ServerSession::EndBody(Stream* s, const FieldList* trailers) {
  if (s->closed_ || s->out_ended_) return;
  s->out_ended_ = true;
  if (trailers != nullptr) s->trailers_ = *trailers;
  Resume(s);
}

void ServerSession::Reset(Stream* s, uint32_t error_code) {
  if (s->closed_) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id_, error_code);
}

void ServerSession::Consume(Stream* s, size_t n) {
  n = std::min(n, s->unconsumed_);
  if (n == 0) return;
  s->unconsumed_ -= n;
  if (!s->closed_) nghttp2_session_consume(session_, s->id_, n);
}

void ServerSession::Shutdown() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
}

void ServerSession::Terminate(uint32_t error_code) {
  nghttp2_session_terminate_session(session_, error_code);
}

}  // namespace keel::h2
