// MetricsServer on civetweb's C++ wrapper; the scrape serializes the registry on a
// civetweb thread, never on a worker.
#include "common/metrics/metrics_server.h"

#include <CivetServer.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iterator>
#include <map>
#include <thread>
#include <vector>

#include "common/log.h"

namespace keel::metrics {

class MetricsServer::Handler : public CivetHandler {
 public:
  explicit Handler(HandlerFn fn) : fn_(std::move(fn)) {}
  bool handleGet(CivetServer*, struct mg_connection* conn) override {
    const mg_request_info* info = mg_get_request_info(conn);
    HttpReply r = fn_(info && info->query_string ? info->query_string : "");
    mg_printf(conn, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
              r.status, mg_get_response_code_text(conn, r.status), r.content_type.c_str(), r.body.size());
    mg_write(conn, r.body.data(), r.body.size());
    return true;
  }

 private:
  HandlerFn fn_;
};

struct MetricsServer::Impl {
  std::vector<const Registry*> registries;
  std::map<std::string, HandlerFn> fns;
  std::vector<std::unique_ptr<Handler>> handlers;
  std::unique_ptr<CivetServer> server;
};

MetricsServer::MetricsServer(const Registry* registry) : impl_(std::make_unique<Impl>()) {
  impl_->registries.push_back(registry);
  Handle("/metrics", [impl = impl_.get()](const std::string&) {
    std::vector<prometheus::MetricFamily> families;
    for (const Registry* r : impl->registries) {
      auto more = r->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
    return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8",
                     prometheus::TextSerializer().Serialize(families)};
  });
}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::AlsoServe(const Registry* registry) { impl_->registries.push_back(registry); }

void MetricsServer::Handle(const std::string& path, HandlerFn fn) { impl_->fns[path] = std::move(fn); }

Status MetricsServer::Start(const std::string& listen_address) {
  std::vector<std::string> options = {"listening_ports", listen_address, "num_threads", "2",
                                      // Scrapes are small; a stuck client must not pin a thread.
                                      "request_timeout_ms", "10000"};
  try {
    impl_->server = std::make_unique<CivetServer>(options);
  } catch (const CivetException& e) {
    return Error{"metrics listener " + listen_address + ": " + e.what()};
  }
  for (const auto& [path, fn] : impl_->fns) {
    impl_->handlers.push_back(std::make_unique<Handler>(fn));
    // "$" anchors civetweb's prefix match, so /metricsfoo is a 404.
    impl_->server->addHandler(path + "$", impl_->handlers.back().get());
  }
  auto ports = impl_->server->getListeningPorts();
  port_ = ports.empty() ? 0 : static_cast<uint16_t>(ports[0]);
  return Status::Ok();
}

void MetricsServer::Stop() {
  if (impl_->server) {
    // civetweb's accept loop polls in 2 s steps and checks its stop flag only between
    // them; one connection right after the flag is set wakes it, so Stop takes
    // milliseconds instead of up to 2 s (every process shutdown and test pays this).
    std::atomic<bool> stopping{true};
    std::thread waker([this, &stopping] {
      while (stopping.load()) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port_);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        (void)::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::close(fd);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    impl_->server->close();
    stopping = false;
    waker.join();
    impl_->server.reset();
  }
  impl_->handlers.clear();
}

}  // namespace keel::metrics
