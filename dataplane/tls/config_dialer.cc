// ConfigDialer: connect, BoringSSL client handshake, socketpair pump.
#include "dataplane/tls/config_dialer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/create_channel_posix.h>
#include <grpcpp/grpcpp.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

#include "common/log.h"

namespace keel::tls {
namespace {

using Clock = std::chrono::steady_clock;

std::string SslError() {
  uint32_t e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "connection closed";
  char buf[160];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

bool SplitHostPort(const std::string& address, std::string* host, std::string* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) return false;
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  return !host->empty();
}

bool IsIpLiteral(const std::string& s) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, s.c_str(), &a4) == 1 || inet_pton(AF_INET6, s.c_str(), &a6) == 1;
}

int RemainingMs(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms > 0 ? static_cast<int>(ms) : 0;
}

// Waits for `events` on fd until the deadline; false on timeout.
bool WaitFd(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, RemainingMs(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

Result<int> ConnectWithin(const std::string& host, const std::string& port, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return Error{"resolve " + host + ": " + gai_strerror(rc)};
  }
  std::string last = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      if (!WaitFd(fd, POLLOUT, deadline)) {
        last = "connect timeout";
        ::close(fd);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc == 0) {
      freeaddrinfo(res);
      return fd;
    }
    last = std::string("connect: ") + strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(res);
  return Error{last};
}

// Per-connection context: the files are read on every dial (renewed certificates
// are used from the next reconnect on).
Result<bssl::UniquePtr<SSL_CTX>> MakeContext(const DialerOptions& o) {
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  if (!ctx) return Error{"SSL_CTX_new failed"};
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (!SSL_CTX_use_certificate_chain_file(ctx.get(), o.cert_file.c_str())) {
    return Error{"--config-tls-cert " + o.cert_file + ": " + SslError()};
  }
  if (!SSL_CTX_use_PrivateKey_file(ctx.get(), o.key_file.c_str(), SSL_FILETYPE_PEM)) {
    return Error{"--config-tls-key " + o.key_file + ": " + SslError()};
  }
  if (!SSL_CTX_check_private_key(ctx.get())) {
    return Error{"--config-tls-key does not match --config-tls-cert: " + SslError()};
  }
  if (!SSL_CTX_load_verify_locations(ctx.get(), o.ca_file.c_str(), nullptr)) {
    return Error{"--config-tls-ca " + o.ca_file + ": " + SslError()};
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  static const uint8_t kAlpn[] = {2, 'h', '2'};  // gRPC's TLS server insists on it
  if (SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof kAlpn) != 0) return Error{"ALPN setup failed"};
  return ctx;
}

// Moves bytes both ways until either side ends or `stop_fd` becomes readable.
void Pump(bssl::UniquePtr<SSL> ssl, int tls_fd, int pair_fd, int stop_fd) {
  char buf[16384];
  std::string up, down;  // up: gRPC → controller, down: controller → gRPC
  bool read_wants_write = false, write_wants_read = false, hup = false;
  // True when the SSL call only has to wait; records which readiness it waits for.
  auto wait_for = [&](int r, bool* wants_read, bool* wants_write) {
    int e = SSL_get_error(ssl.get(), r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return false;
    if (wants_read) *wants_read = e == SSL_ERROR_WANT_READ;
    if (wants_write) *wants_write = e == SSL_ERROR_WANT_WRITE;
    return true;
  };
  for (;;) {
    bool progress = true, any = false, end = false;
    while (progress && !end) {
      progress = false;
      if (up.empty()) {
        ssize_t n = ::read(pair_fd, buf, sizeof buf);
        if (n > 0)
          up.assign(buf, static_cast<size_t>(n)), progress = true;
        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
          end = true;
      }
      if (!up.empty() && !end) {
        int r = SSL_write(ssl.get(), up.data(), static_cast<int>(up.size()));
        if (r > 0)
          up.erase(0, static_cast<size_t>(r)), progress = true;
        else if (!wait_for(r, &write_wants_read, nullptr))
          end = true;
      }
      if (down.empty() && !end) {
        int r = SSL_read(ssl.get(), buf, sizeof buf);
        if (r > 0)
          down.assign(buf, static_cast<size_t>(r)), progress = true;
        else if (!wait_for(r, nullptr, &read_wants_write))
          end = true;
      }
      if (!down.empty() && !end) {
        ssize_t n = ::write(pair_fd, down.data(), down.size());
        if (n > 0)
          down.erase(0, static_cast<size_t>(n)), progress = true;
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
          end = true;
      }
      any = any || progress;
    }
    // A hang-up that no longer lets anything move would make poll spin: stop.
    if (end || (hup && !any)) break;
    pollfd p[3] = {{tls_fd, 0, 0}, {pair_fd, 0, 0}, {stop_fd, POLLIN, 0}};
    if (down.empty()) p[0].events |= read_wants_write ? POLLOUT : POLLIN;
    if (!up.empty()) p[0].events |= write_wants_read ? POLLIN : POLLOUT;
    p[1].events = static_cast<short>((up.empty() ? POLLIN : 0) | (down.empty() ? 0 : POLLOUT));
    if (::poll(p, 3, -1) < 0 && errno != EINTR) break;
    if (p[2].revents) break;
    hup = (p[0].revents | p[1].revents) & (POLLHUP | POLLERR);
  }
  SSL_shutdown(ssl.get());
  ERR_clear_error();
  ::close(tls_fd);
  ::close(pair_fd);
}

}  // namespace

struct ConfigDialer::State {
  DialerOptions options;
  std::string host, port;
  int stop_fd = -1;
  mutable std::mutex mu;
  struct Running {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::list<Running> pumps;
  std::string last_error;
};

ConfigDialer::ConfigDialer(DialerOptions options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
}

Result<std::shared_ptr<ConfigDialer>> ConfigDialer::Create(DialerOptions options) {
  std::shared_ptr<ConfigDialer> d(new ConfigDialer(std::move(options)));
  State& s = *d->state_;
  if (!SplitHostPort(s.options.address, &s.host, &s.port))
    return Error{"bad controller address " + s.options.address};
  if (s.options.server_name.empty()) s.options.server_name = s.host;
  auto ctx = MakeContext(s.options);
  if (!ctx.ok()) return Error{ctx.error()};
  s.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s.stop_fd < 0) return Error{std::string("eventfd: ") + strerror(errno)};
  return d;
}

ConfigDialer::~ConfigDialer() {
  uint64_t one = 1;
  if (state_->stop_fd >= 0 && ::write(state_->stop_fd, &one, sizeof one) < 0) {
    KEEL_LOG(Warn, "config") << "cannot signal the TLS pumps: " << strerror(errno);
  }
  for (auto& p : state_->pumps) p.thread.join();
  if (state_->stop_fd >= 0) ::close(state_->stop_fd);
}

std::string ConfigDialer::last_error() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->last_error;
}

std::shared_ptr<grpc::Channel> ConfigDialer::Dial(const grpc::ChannelArguments& args) {
  State& s = *state_;
  const DialerOptions& o = s.options;
  auto fail = [&](const std::string& why) -> std::shared_ptr<grpc::Channel> {
    std::lock_guard<std::mutex> lock(s.mu);
    // One warning per distinct failure; repeats during an outage go to debug.
    if (why != s.last_error) {
      KEEL_LOG(Warn, "config") << "config channel to " << o.address << ": " << why;
    } else {
      KEEL_LOG(Debug, "config") << "config channel to " << o.address << ": " << why;
    }
    s.last_error = why;
    return nullptr;
  };
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto it = s.pumps.begin(); it != s.pumps.end();) {
      if (!it->done.load()) {
        ++it;
        continue;
      }
      it->thread.join();
      it = s.pumps.erase(it);
    }
  }
  auto deadline = Clock::now() + o.timeout;
  auto ctx = MakeContext(o);
  if (!ctx.ok()) return fail(ctx.error());
  auto fd = ConnectWithin(s.host, s.port, deadline);
  if (!fd.ok()) return fail(fd.error());
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx->get()));
  bool setup = ssl && SSL_set_fd(ssl.get(), *fd);
  if (setup && IsIpLiteral(o.server_name)) {
    setup = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), o.server_name.c_str());
  } else if (setup) {
    setup = SSL_set1_host(ssl.get(), o.server_name.c_str()) &&
            SSL_set_tlsext_host_name(ssl.get(), o.server_name.c_str());
  }
  if (!setup) {
    ::close(*fd);
    return fail("TLS setup failed: " + SslError());
  }
  SSL_set_connect_state(ssl.get());
  for (;;) {
    int r = SSL_do_handshake(ssl.get());
    if (r == 1) break;
    int e = SSL_get_error(ssl.get(), r);
    bool waited = false;
    if (e == SSL_ERROR_WANT_READ)
      waited = WaitFd(*fd, POLLIN, deadline);
    else if (e == SSL_ERROR_WANT_WRITE)
      waited = WaitFd(*fd, POLLOUT, deadline);
    if (waited) continue;
    std::string why =
        e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? "TLS handshake timeout" : SslError();
    long verify = SSL_get_verify_result(ssl.get());
    if (verify != X509_V_OK)
      why += std::string(" (server certificate: ") + X509_verify_cert_error_string(verify) + ")";
    ::close(*fd);
    return fail("TLS handshake: " + why);
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    ::close(*fd);
    return fail(std::string("socketpair: ") + strerror(errno));
  }
  fcntl(pair[1], F_SETFL, fcntl(pair[1], F_GETFL) | O_NONBLOCK);
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.last_error.empty()) {
      KEEL_LOG(Info, "config") << "config channel to " << o.address << ": TLS established";
    }
    s.last_error.clear();
    auto& running = s.pumps.emplace_back();
    running.thread = std::thread([ssl = std::move(ssl), tls_fd = *fd, pump_fd = pair[1], stop = s.stop_fd,
                                  done = &running.done]() mutable {
      Pump(std::move(ssl), tls_fd, pump_fd, stop);
      done->store(true);
    });
  }
  // gRPC owns pair[0] from here and closes it with the channel.
  return grpc::CreateCustomInsecureChannelFromFd(o.address, pair[0], args);
}

}  // namespace keel::tls
