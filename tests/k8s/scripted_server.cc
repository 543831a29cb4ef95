// ScriptedServer implementation (POSIX sockets, one thread per connection).
#include "tests/k8s/scripted_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace keel::k8s::testing {

ScriptedServer::ScriptedServer(std::vector<std::string> replies, size_t slice)
    : replies_(std::move(replies)), slice_(slice) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(listen_fd_, 16);
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

ScriptedServer::~ScriptedServer() {
  stop_ = true;
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : conns_) shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
  for (int fd : conns_) close(fd);
  close(listen_fd_);
}

std::vector<std::string> ScriptedServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::string ScriptedServer::JsonReply(int code, const std::string& text, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(code) + " " + text +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

void ScriptedServer::AcceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(mu_);
    conns_.push_back(fd);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void ScriptedServer::Serve(int fd) {
  std::string in;
  char buf[4096];
  while (!stop_) {
    // One request: headers only (the client under test sends GETs).
    size_t end;
    while ((end = in.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
    }
    std::string request_line = in.substr(0, in.find("\r\n"));
    in.erase(0, end + 4);
    std::string reply;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request_line);
      if (next_ < replies_.size()) reply = replies_[next_++];
    }
    if (reply.empty()) {
      // Past the script: hold the connection, like a watch with nothing to say.
      while (!stop_ && recv(fd, buf, sizeof buf, 0) > 0) {
      }
      return;
    }
    for (size_t off = 0; off < reply.size(); off += slice_) {
      size_t n = std::min(slice_, reply.size() - off);
      if (send(fd, reply.data() + off, n, MSG_NOSIGNAL) != static_cast<ssize_t>(n)) return;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
}

}  // namespace keel::k8s::testing
