// nghttp2 client session glue: SETTINGS, callbacks → ClientHandler, request body
// queues behind deferred data providers, manual response flow control.
#include "dataplane/http2/client_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "dataplane/http2/nghttp2_glue.h"

namespace keel::h2 {
using glue::Nv;

struct ClientSession::Callbacks {
  static ClientSession* Self(void* user_data) { return static_cast<ClientSession*>(user_data); }
  static ClientStream* Get(nghttp2_session* session, int32_t id) {
    return static_cast<ClientStream*>(nghttp2_session_get_stream_user_data(session, id));
  }

  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user_data) {
    ClientStream* s = Get(session, frame->hd.stream_id);
    if (s == nullptr || s->closed_) return 0;
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      // nghttp2 has checked it is three digits (RFC 9113 §8.3.2).
      std::from_chars(v.data(), v.data() + v.size(), s->status_);
      return 0;
    }
    // nghttp2 does not enforce our SETTINGS_MAX_HEADER_LIST_SIZE on what it
    // receives; a response head that large is a broken upstream, not a response.
    if (s->header_bytes_ += namelen + valuelen + 32;
        s->header_bytes_ > Self(user_data)->options_.max_header_list_bytes) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // RST_STREAM(INTERNAL_ERROR)
    }
    s->fields_.Add(n, v);
    return 0;
  }

  static int OnFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    ClientSession* self = Self(user_data);
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        ClientStream* s = Get(session, frame->hd.stream_id);
        if (s == nullptr || s->closed_) break;
        if (!s->head_done_) {
          if (s->status_ < 200) {  // 100/103: the final head is still to come
            s->fields_.Clear();
            s->header_bytes_ = 0;
            break;
          }
          s->head_done_ = true;
          s->response_ended_ = end_stream;
          self->handler_->OnResponseHead(s, s->status_, s->fields_, end_stream);
        } else {
          // nghttp2 only lets a HEADERS frame after the head through with END_STREAM.
          s->response_ended_ = true;
          self->handler_->OnResponseTrailers(s, s->fields_);
        }
        s->fields_.Clear();
        s->header_bytes_ = 0;
        break;
      }
      case NGHTTP2_DATA: {
        ClientStream* s = Get(session, frame->hd.stream_id);
        if (end_stream && s != nullptr && !s->closed_ && !s->response_ended_) {
          s->response_ended_ = true;
          self->handler_->OnResponseEnd(s);
        }
        break;
      }
      case NGHTTP2_GOAWAY:
        self->going_away_ = true;
        break;
      default:
        break;
    }
    return 0;
  }

  static int OnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user_data) {
    ClientStream* s = Get(session, stream_id);
    if (s == nullptr || s->closed_) {
      nghttp2_session_consume(session, stream_id, len);  // nobody wants it
      return 0;
    }
    s->unconsumed_ += len;
    Self(user_data)->handler_->OnResponseData(s, {reinterpret_cast<const char*>(data), len});
    return 0;
  }

  static int OnStreamClose(nghttp2_session* session, int32_t stream_id, uint32_t error_code,
                           void* user_data) {
    ClientStream* s = Get(session, stream_id);
    if (s == nullptr || s->closed_) return 0;
    ClientSession* self = Self(user_data);
    // Bytes the handler never consumed still occupy the connection window.
    if (s->unconsumed_ > 0) nghttp2_session_consume_connection(session, s->unconsumed_);
    s->unconsumed_ = 0;
    s->out_.Clear();
    if (s->drain_pending_) {
      auto& d = self->drained_;
      d.erase(std::remove(d.begin(), d.end(), s), d.end());
      s->drain_pending_ = false;
    }
    s->closed_ = true;
    self->open_streams_--;
    nghttp2_session_set_stream_user_data(session, stream_id, nullptr);
    self->handler_->OnStreamClose(s, error_code);
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* data_flags,
                          nghttp2_data_source* source, void* user_data) {
    ClientStream* s = static_cast<ClientStream*>(source->ptr);
    size_t n = std::min(length, s->out_.size());
    if (n > 0) {
      std::memcpy(buf, s->out_.view().data(), n);
      s->out_.Consume(n);
    }
    if (s->out_.empty()) {
      if (s->out_ended_) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        s->out_.Shrink();
      } else {
        // Ask for more once nghttp2 is done (not from inside its callback).
        if (!s->drain_pending_) {
          s->drain_pending_ = true;
          Self(user_data)->drained_.push_back(s);
        }
        if (n == 0) {
          s->deferred_ = true;
          return NGHTTP2_ERR_DEFERRED;
        }
      }
    }
    return static_cast<ssize_t>(n);
  }

  static int OnError(nghttp2_session*, int code, const char* msg, size_t len, void*) {
    KEEL_LOG(Debug, "http2") << "upstream nghttp2 (" << code << "): " << std::string_view(msg, len);
    return 0;
  }
};

ClientSession::ClientSession(const ClientOptions& options, ClientHandler* handler)
    : options_(options), handler_(handler) {
  options_.connection_window_bytes =
      std::max(options_.connection_window_bytes, options_.initial_window_bytes);
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback(cbs, Callbacks::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, Callbacks::OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, Callbacks::OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, Callbacks::OnStreamClose);
  nghttp2_session_callbacks_set_error_callback2(cbs, Callbacks::OnError);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_session_client_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
}

ClientSession::~ClientSession() { nghttp2_session_del(session_); }

void ClientSession::Start() {
  const nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.initial_window_bytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, options_.max_header_list_bytes},
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(options_.connection_window_bytes));
}

bool ClientSession::Submit(ClientStream* s, const FieldList& fields, bool has_body) {
  if (going_away_ || !nghttp2_session_check_request_allowed(session_)) return false;
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) nva.push_back(Nv(fields.at(i).name, fields.at(i).value));
  nghttp2_data_provider prd{};
  prd.source.ptr = s;
  prd.read_callback = Callbacks::ReadBody;
  s->out_ended_ = !has_body;
  int32_t id =
      nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), has_body ? &prd : nullptr, s);
  if (id < 0) {
    KEEL_LOG(Debug, "http2") << "upstream request refused by nghttp2: " << nghttp2_strerror(id);
    return false;
  }
  s->id_ = id;
  open_streams_++;
  return true;
}

void ClientSession::Resume(ClientStream* s) {
  if (!s->deferred_ || s->closed_) return;
  s->deferred_ = false;
  nghttp2_session_resume_data(session_, s->id_);
}

void ClientSession::QueueBody(ClientStream* s, std::string_view data) {
  if (s->closed_ || s->out_ended_ || data.empty()) return;
  s->out_.Append(data);
  Resume(s);
}

void ClientSession::EndBody(ClientStream* s) {
  if (s->closed_ || s->out_ended_) return;
  s->out_ended_ = true;
  Resume(s);
}

void ClientSession::Reset(ClientStream* s, uint32_t error_code) {
  if (s->closed_ || s->id_ < 0) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id_, error_code);
}

void ClientSession::Consume(ClientStream* s, size_t n) {
  n = std::min(n, s->unconsumed_);
  if (n == 0) return;
  s->unconsumed_ -= n;
  if (!s->closed_) nghttp2_session_consume(session_, s->id_, n);
}

bool ClientSession::Receive(std::string_view data) {
  ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data.data()), data.size());
  if (rv < 0) {
    KEEL_LOG(Debug, "http2") << "upstream session error: " << nghttp2_strerror(static_cast<int>(rv));
    nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
    going_away_ = true;
    return false;
  }
  return true;
}

bool ClientSession::Send(net::Buffer* out, size_t limit) {
  if (!glue::SendInto(session_, out, limit, "upstream")) return false;
  // Streams whose request body queue ran dry may take more now. Handlers only free
  // a stream in OnStreamClose, which cannot run during this loop.
  std::vector<ClientStream*> drained;
  drained.swap(drained_);
  for (ClientStream* s : drained) {
    s->drain_pending_ = false;
    if (!s->closed_) handler_->OnRequestDrained(s);
  }
  return true;
}

bool ClientSession::WantRead() const { return nghttp2_session_want_read(session_) != 0; }
bool ClientSession::WantWrite() const { return nghttp2_session_want_write(session_) != 0; }

size_t ClientSession::spare_streams() const {
  if (going_away_) return 0;
  uint32_t max = nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return max > open_streams_ ? max - open_streams_ : 0;
}

void ClientSession::Shutdown() {
  going_away_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
}

}  // namespace keel::h2
