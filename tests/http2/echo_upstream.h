// A blocking HTTP/1.1 upstream for the h2 tests on 127.0.0.1:0: a thread per
// connection, keep-alive, Content-Length and chunked request bodies.
//   /big/N      N bytes of a repeating a..z pattern, with Content-Length
//   /chunked/N  the same, chunked
//   /slow/MS    waits MS milliseconds, then answers like any other path
//   ...?close   any of the above, then "Connection: close" and the socket is closed
//   anything    200 "METHOD target\nbody-bytes: N\nbody-hash: H\n" + "name: value\n" per
//               received header (names lower-cased), so tests see what was forwarded
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace keel::h2::testing {

// FNV-1a, to compare bodies without echoing megabytes.
uint64_t BodyHash(std::string_view data);
// The /big and /chunked pattern.
std::string Pattern(size_t n);

class EchoUpstream {
 public:
  EchoUpstream();
  ~EchoUpstream();
  EchoUpstream(const EchoUpstream&) = delete;
  EchoUpstream& operator=(const EchoUpstream&) = delete;

  uint16_t port() const { return port_; }
  int requests() const { return requests_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace keel::h2::testing
