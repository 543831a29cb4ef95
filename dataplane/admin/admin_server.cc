#include "dataplane/admin/admin_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/log.h"
#include "dataplane/http1/parser.h"
#include "dataplane/net/buffer.h"
#include "dataplane/net/socket.h"

namespace keel::admin {

// One request per connection: admin traffic is rare, simplicity wins.
class AdminServer::Conn : public event::Handler {
 public:
  Conn(AdminServer* server, int fd) : server_(server), fd_(fd), timer_([this] { Close(); }) {
    server_->loop_.Add(fd_, EPOLLIN | EPOLLRDHUP, this);
    server_->loop_.Arm(&timer_, 10000);
  }
  ~Conn() override { ::close(fd_); }

  void OnEvents(uint32_t events) override {
    if (closed_) return;
    if (events & EPOLLOUT) return Flush();
    for (;;) {
      char* p = in_.Prepare(4096);
      ssize_t n = ::recv(fd_, p, 4096, 0);
      if (n > 0) {
        in_.Commit(static_cast<size_t>(n));
        if (in_.size() > 65536) return Close();
        continue;
      }
      if (n == 0) return Close();
      if (errno == EAGAIN || errno == EINTR) break;
      return Close();
    }
    if (answered_) return;
    http1::RequestHead head;
    auto r = http1::ParseRequestHead(in_.view(), http1::Limits{}, &head);
    if (r.status == http1::ParseStatus::NeedMore) return;
    Reply reply;
    if (r.status != http1::ParseStatus::Done) {
      reply.status = 400;
      reply.body = "bad request\n";
    } else {
      reply = server_->Dispatch(std::string(head.method), std::string(head.target));
    }
    answered_ = true;
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                      std::string(http1::ReasonPhrase(reply.status)) + "\r\ncontent-type: " + reply.content_type +
                      "\r\ncontent-length: " + std::to_string(reply.body.size()) +
                      "\r\ncache-control: no-store\r\nconnection: close\r\n\r\n" + reply.body;
    out_.Append(out);
    Flush();
  }

 private:
  void Flush() {
    while (!out_.empty()) {
      ssize_t n = ::send(fd_, out_.view().data(), out_.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out_.Consume(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        server_->loop_.Modify(fd_, EPOLLOUT, this);
        return;
      }
      break;
    }
    Close();
  }
  void Close() {
    if (closed_) return;
    closed_ = true;
    server_->loop_.Disarm(&timer_);
    server_->loop_.Remove(fd_);
    server_->loop_.Defer([this] { delete this; });
  }

  AdminServer* server_;
  int fd_;
  event::Timer timer_;
  net::Buffer in_, out_;
  bool answered_ = false, closed_ = false;
};

class AdminServer::Acceptor : public event::Handler {
 public:
  Acceptor(AdminServer* s, int fd) : server_(s), fd_(fd) {}
  ~Acceptor() override { ::close(fd_); }
  void OnEvents(uint32_t) override {
    for (;;) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) return;
      new Conn(server_, c);
    }
  }
  int fd() const { return fd_; }

 private:
  AdminServer* server_;
  int fd_;
};

AdminServer::AdminServer() = default;

AdminServer::~AdminServer() { Stop(); }

void AdminServer::Handle(const std::string& path, HandlerFn fn) { handlers_[path] = std::move(fn); }

Reply AdminServer::Dispatch(const std::string& method, const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  auto it = handlers_.find(path);
  if (it == handlers_.end()) {
    Reply r;
    r.status = 404;
    r.body = "unknown admin path; try /healthz /readyz /config_dump /stats\n";
    return r;
  }
  return it->second(method, target);
}

Status AdminServer::Start(const std::string& listen_address) {
  auto addr = net::ParseHostPort(listen_address);
  if (!addr.ok()) return Error{addr.error()};
  auto fd = net::Listen(*addr, false, 128);
  if (!fd.ok()) return Error{fd.error()};
  auto local = net::LocalAddress(*fd);
  port_ = local.ok() ? local->port() : addr->port();
  acceptor_ = std::make_unique<Acceptor>(this, *fd);
  loop_.Add(*fd, EPOLLIN, acceptor_.get());
  thread_ = std::thread([this] { loop_.Run(); });
  return Status::Ok();
}

void AdminServer::Stop() {
  if (!thread_.joinable()) return;
  loop_.Stop();
  thread_.join();
}

}  // namespace keel::admin
