// The test client, raw frame writer and socket pump (see the header).
#include "tests/http2/h2_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace keel::h2::testing {
namespace {

Client* Self(void* user_data) { return static_cast<Client*>(user_data); }

nghttp2_nv Nv(const std::string& name, const std::string& value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

std::string Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

struct ClientCallbacks {
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Response& r = Self(user_data)->response(frame->hd.stream_id);
    std::string n(reinterpret_cast<const char*>(name), namelen),
        v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      int st = std::stoi(v);
      if (st < 200)
        r.informational.push_back(st);
      else
        r.status = st;
    } else {
      r.headers.emplace_back(std::move(n), std::move(v));
    }
    return 0;
  }
  static int OnData(nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data, size_t len,
                    void* user_data) {
    Self(user_data)->response(stream).body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Client* c = Self(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      c->goaway_ = true;
      c->goaway_code_ = frame->goaway.error_code;
      c->goaway_last_stream_ = frame->goaway.last_stream_id;
    } else if (frame->hd.type == NGHTTP2_RST_STREAM) {
      Response& r = c->response(frame->hd.stream_id);
      r.reset_by_server = true;
      r.reset_code = frame->rst_stream.error_code;
    }
    return 0;
  }
  static int OnClose(nghttp2_session*, int32_t stream, uint32_t code, void* user_data) {
    Client* c = Self(user_data);
    Response& r = c->response(stream);
    r.closed = true;
    r.close_error = code;
    c->closed_++;
    return 0;
  }
};

Client::Client() { Init(Options{}); }
Client::Client(const Options& options) { Init(options); }

void Client::Init(const Options& options) {
  options_ = options;
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback(cbs, ClientCallbacks::OnHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, ClientCallbacks::OnData);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, ClientCallbacks::OnFrameRecv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, ClientCallbacks::OnClose);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  if (options.max_send_header_block)
    nghttp2_option_set_max_send_header_block_length(opt, options.max_send_header_block);
  // Abuse tests send what a polite client would not: let the server be the judge.
  nghttp2_option_set_no_http_messaging(opt, 1);
  nghttp2_session_client_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
}

Client::~Client() { nghttp2_session_del(session_); }

void Client::Start() {
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(options_.initial_window)},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, 2);
}

bool Client::StartUpgraded(std::string_view settings) {
  return nghttp2_session_upgrade2(session_, reinterpret_cast<const uint8_t*>(settings.data()),
                                  settings.size(), 0, nullptr) == 0;
}

ssize_t Client::ReadBody(nghttp2_session*, int32_t stream, uint8_t* buf, size_t length, uint32_t* flags,
                         nghttp2_data_source*, void* user_data) {
  std::string& body = Self(user_data)->bodies_[stream];
  size_t n = std::min(length, body.size());
  std::memcpy(buf, body.data(), n);
  body.erase(0, n);
  if (body.empty()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

int32_t Client::Request(const Headers& fields, std::string body, bool end_stream) {
  std::vector<nghttp2_nv> nva;
  for (const auto& [n, v] : fields) nva.push_back(Nv(n, v));
  nghttp2_data_provider prd{};
  prd.read_callback = ReadBody;
  bool with_data = !body.empty() || !end_stream;
  int32_t id =
      nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), with_data ? &prd : nullptr, nullptr);
  if (id > 0 && with_data) bodies_[id] = std::move(body);
  return id;
}

int32_t Client::Get(std::string_view authority, std::string_view path, const Headers& extra) {
  Headers h = {{":method", "GET"},
               {":scheme", "http"},
               {":authority", std::string(authority)},
               {":path", std::string(path)}};
  h.insert(h.end(), extra.begin(), extra.end());
  return Request(h);
}

void Client::Reset(int32_t stream, uint32_t code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream, code);
}

std::string Client::TakeOutput() {
  std::string out;
  for (;;) {
    const uint8_t* p = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &p);
    if (n <= 0) break;
    out.append(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
  }
  return out;
}

bool Client::Feed(std::string_view data) {
  return nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data.data()), data.size()) >= 0;
}

uint32_t Client::remote_setting(int32_t id) const {
  return nghttp2_session_get_remote_settings(session_, static_cast<nghttp2_settings_id>(id));
}

std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string f;
  f.push_back(static_cast<char>((payload.size() >> 16) & 0xff));
  f.push_back(static_cast<char>((payload.size() >> 8) & 0xff));
  f.push_back(static_cast<char>(payload.size() & 0xff));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<char>((stream >> shift) & 0xff));
  f.append(payload);
  return f;
}

std::string LiteralField(std::string_view name, std::string_view value) {
  std::string out;
  out.push_back(0x00);
  out.push_back(static_cast<char>(name.size()));  // < 127, no Huffman
  out.append(name);
  out.push_back(static_cast<char>(value.size()));
  out.append(value);
  return out;
}

std::vector<RawFrame> ParseFrames(std::string_view bytes) {
  std::vector<RawFrame> frames;
  while (bytes.size() >= 9) {
    auto u8 = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
    size_t len = (size_t{u8(0)} << 16) | (size_t{u8(1)} << 8) | u8(2);
    if (bytes.size() < 9 + len) break;
    RawFrame f;
    f.type = u8(3);
    f.flags = u8(4);
    f.stream =
        ((uint32_t{u8(5)} << 24) | (uint32_t{u8(6)} << 16) | (uint32_t{u8(7)} << 8) | u8(8)) & 0x7fffffff;
    f.payload.assign(bytes.substr(9, len));
    frames.push_back(std::move(f));
    bytes.remove_prefix(9 + len);
  }
  return frames;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool Pump(int fd, Client& client, const std::function<bool()>& done, int timeout_ms, bool* eof) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  if (eof) *eof = false;
  for (;;) {
    std::string out = client.TakeOutput();
    if (!out.empty() && !WriteAll(fd, out)) {
      if (eof) *eof = true;
      return done();
    }
    if (done()) return true;
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 50)));
    if (r <= 0) continue;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (eof) *eof = true;
      return done();
    }
    if (!client.Feed({buf, static_cast<size_t>(n)})) return done();
  }
}

std::string ReadUntilClose(int fd, int timeout_ms, bool* eof) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string all;
  *eof = false;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      *eof = true;
      break;
    }
    all.append(buf, static_cast<size_t>(n));
  }
  return all;
}

}  // namespace keel::h2::testing
