// ScriptedServer: a raw TCP server on 127.0.0.1 that answers the n-th HTTP request
// with the n-th canned reply, byte for byte (e.g. a captured chunked watch stream),
// written in small slices so that the client sees lines split across reads. Requests
// beyond the script are held open, unanswered, until the server is destroyed.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace keel::k8s::testing {

class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> replies, size_t slice = 512);
  ~ScriptedServer();
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  int port() const { return port_; }
  // Request lines received so far ("GET /apis/... HTTP/1.1").
  std::vector<std::string> requests() const;

  // "HTTP/1.1 <code> <text>\r\nContent-Type: application/json\r\nContent-Length: ..." + body.
  static std::string JsonReply(int code, const std::string& text, const std::string& body);

 private:
  void AcceptLoop();
  void Serve(int fd);

  std::vector<std::string> replies_;
  const size_t slice_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  size_t next_ = 0;
  std::vector<std::string> requests_;
  std::vector<int> conns_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace keel::k8s::testing
