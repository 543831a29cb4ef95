// The blocking echo upstream (see the header).
#include "tests/http2/echo_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace keel::h2::testing {
namespace {

bool ReadMore(int fd, std::string* buf) {
  char tmp[65536];
  ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf->append(tmp, static_cast<size_t>(n));
  return true;
}

// Takes one CRLF-terminated line from the front of *buf, reading as needed.
bool Line(int fd, std::string* buf, std::string* line) {
  size_t eol;
  while ((eol = buf->find("\r\n")) == std::string::npos) {
    if (!ReadMore(fd, buf)) return false;
  }
  line->assign(*buf, 0, eol);
  buf->erase(0, eol + 2);
  return true;
}

bool Exactly(int fd, std::string* buf, size_t n, std::string* out) {
  while (buf->size() < n) {
    if (!ReadMore(fd, buf)) return false;
  }
  out->append(*buf, 0, n);
  buf->erase(0, n);
  return true;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

uint64_t BodyHash(std::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string Pattern(size_t n) {
  std::string s(n, 'a');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

EchoUpstream::EchoUpstream() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(listen_fd_, 128);
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

EchoUpstream::~EchoUpstream() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : conns_) {
      if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    }
  }
  for (auto& t : threads_) t.join();
}

void EchoUpstream::AcceptLoop() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    conns_.push_back(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void EchoUpstream::Serve(int fd) {
  std::string buf, line;
  for (;;) {
    if (!Line(fd, &buf, &line)) break;
    std::string method = line.substr(0, line.find(' '));
    std::string target = line.substr(method.size() + 1, line.rfind(' ') - method.size() - 1);
    std::string echo_headers;
    long long length = -1;
    bool chunked = false, close = false;
    while (Line(fd, &buf, &line) && !line.empty()) {
      size_t colon = line.find(':');
      std::string name = Lower(line.substr(0, colon));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      echo_headers += name + ": " + value + "\n";
      if (name == "content-length") length = std::atoll(value.c_str());
      if (name == "transfer-encoding") chunked = Lower(value) == "chunked";
      if (name == "connection") close = Lower(value) == "close";
    }
    std::string body;
    bool ok = true;
    if (chunked) {
      for (;;) {
        ok = Line(fd, &buf, &line);
        if (!ok) break;
        size_t size = std::strtoul(line.c_str(), nullptr, 16);
        if (size == 0) {
          while ((ok = Line(fd, &buf, &line)) && !line.empty()) {
          }
          break;
        }
        ok = Exactly(fd, &buf, size, &body) && Line(fd, &buf, &line);
        if (!ok) break;
      }
    } else if (length > 0) {
      ok = Exactly(fd, &buf, static_cast<size_t>(length), &body);
    }
    if (!ok) break;
    requests_++;

    if (target.size() > 6 && target.compare(target.size() - 6, 6, "?close") == 0) close = true;
    std::string head = std::string("HTTP/1.1 200 OK\r\nx-upstream: echo\r\nConnection: ") +
                       (close ? "close" : "keep-alive") + ", X-Hop\r\nX-Hop: 1\r\n";
    std::string out;
    if (target.rfind("/slow/", 0) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(target.c_str() + 6)));
    }
    if (target.rfind("/big/", 0) == 0) {
      std::string payload = Pattern(std::strtoul(target.c_str() + 5, nullptr, 10));
      out = head + "Content-Length: " + std::to_string(payload.size()) + "\r\n\r\n" + payload;
    } else if (target.rfind("/chunked/", 0) == 0) {
      std::string payload = Pattern(std::strtoul(target.c_str() + 9, nullptr, 10));
      out = head + "Transfer-Encoding: chunked\r\n\r\n";
      for (size_t off = 0; off < payload.size(); off += 10000) {
        std::string piece = payload.substr(off, 10000);
        char size[32];
        snprintf(size, sizeof size, "%zx\r\n", piece.size());
        out += size + piece + "\r\n";
      }
      out += "0\r\n\r\n";
    } else {
      std::string payload = method + " " + target + "\nbody-bytes: " + std::to_string(body.size()) +
                            "\nbody-hash: " + std::to_string(BodyHash(body)) + "\n" + echo_headers;
      out = head + "Content-Type: text/plain\r\nContent-Length: " + std::to_string(payload.size()) +
            "\r\n\r\n" + (method == "HEAD" ? std::string() : payload);
    }
    if (!SendAll(fd, out) || close) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);  // forget it before the number can be reused
    for (int& c : conns_) {
      if (c == fd) c = -1;
    }
  }
  ::close(fd);
}

}  // namespace keel::h2::testing
