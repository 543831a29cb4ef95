// AdminServer: the dataplane's operator endpoints on their own listener and thread
// (loopback by default), never on the traffic listeners:
//   GET /healthz      200 while the process runs
//   GET /readyz       200 once a snapshot is applied and while not draining, else 503
//   GET /config_dump  the applied snapshot as JSON, private keys removed
//   GET /stats        request/connection counters as JSON
// Handlers are registered by main, so this file knows nothing of the proxy.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"
#include "dataplane/event/loop.h"

namespace keel::admin {

struct Reply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class AdminServer {
 public:
  using HandlerFn = std::function<Reply(const std::string& method, const std::string& path_and_query)>;

  AdminServer();
  ~AdminServer();

  // Exact path (without query) → handler. Register before Start.
  void Handle(const std::string& path, HandlerFn fn);
  Status Start(const std::string& listen_address);
  uint16_t port() const { return port_; }
  void Stop();

 private:
  class Conn;
  class Acceptor;
  Reply Dispatch(const std::string& method, const std::string& target);

  event::EventLoop loop_;
  std::map<std::string, HandlerFn> handlers_;
  std::unique_ptr<Acceptor> acceptor_;
  std::thread thread_;
  uint16_t port_ = 0;
};

}  // namespace keel::admin
