// Test side of HTTP/2: an nghttp2 client session that records what the server sent
// (responses, resets, GOAWAY, SETTINGS), a raw frame writer for abuse cases nghttp2
// would never produce, and a pump that drives a client over a blocking socket.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::h2::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
  int status = 0;
  Headers headers;  // final response fields (no pseudo-headers)
  std::vector<int> informational;
  std::string body;
  bool closed = false;
  uint32_t close_error = 0;  // error code the stream closed with
  bool reset_by_server = false;
  uint32_t reset_code = 0;
  std::string header(std::string_view name) const;
};

struct ClientCallbacks;

class Client {
 public:
  struct Options {
    size_t max_send_header_block = 0;  // 0: nghttp2's 64 KiB
    int32_t initial_window = 65535;    // our SETTINGS_INITIAL_WINDOW_SIZE
  };
  Client();
  explicit Client(const Options& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Queues the client preface (magic + SETTINGS).
  void Start();
  // h2c upgrade (client side): stream 1 is the HTTP/1.1 request already sent.
  // `settings` is the decoded HTTP2-Settings payload we sent.
  bool StartUpgraded(std::string_view settings);
  // Submits a request; `body` is sent as DATA (END_STREAM on HEADERS if empty and
  // `end_stream`). Pseudo-headers default to GET http <authority> <path>.
  int32_t Request(const Headers& fields, std::string body = {}, bool end_stream = true);
  int32_t Get(std::string_view authority, std::string_view path, const Headers& extra = {});
  void Reset(int32_t stream, uint32_t code);

  // Serialized frames waiting to go out.
  std::string TakeOutput();
  // Feeds bytes from the server; false on a session error.
  bool Feed(std::string_view data);

  Response& response(int32_t stream) { return responses_[stream]; }
  bool goaway() const { return goaway_; }
  uint32_t goaway_code() const { return goaway_code_; }
  int32_t goaway_last_stream() const { return goaway_last_stream_; }
  uint32_t remote_setting(int32_t id) const;
  nghttp2_session* session() { return session_; }
  size_t closed_streams() const { return closed_; }

 private:
  friend struct ClientCallbacks;
  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void* user_data);
  void Init(const Options& options);

  nghttp2_session* session_ = nullptr;
  Options options_;
  std::map<int32_t, Response> responses_;
  std::map<int32_t, std::string> bodies_;  // request bodies still to send
  bool goaway_ = false;
  uint32_t goaway_code_ = 0;
  int32_t goaway_last_stream_ = 0;
  size_t closed_ = 0;
};

// Raw frames (RFC 9113 §4.1) for misbehaving clients.
std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload);
inline constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// A literal header field without indexing, new name (RFC 7541 §6.2.2), short strings.
std::string LiteralField(std::string_view name, std::string_view value);

struct RawFrame {
  uint8_t type = 0, flags = 0;
  uint32_t stream = 0;
  std::string payload;
};
// Splits `bytes` into complete frames (ignores a trailing partial one).
std::vector<RawFrame> ParseFrames(std::string_view bytes);

// Drives `client` over blocking socket `fd` until `done()` holds, the peer closes, or
// `timeout_ms` pass. Returns whether `done()` held; *eof tells if the peer closed.
bool Pump(int fd, Client& client, const std::function<bool()>& done, int timeout_ms = 5000,
          bool* eof = nullptr);
// Reads raw bytes until EOF or `timeout_ms`; returns them.
std::string ReadUntilClose(int fd, int timeout_ms, bool* eof);
bool WriteAll(int fd, std::string_view data);

}  // namespace keel::h2::testing
