#include "dataplane/app.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "common/log.h"
#include "common/metrics/metrics_server.h"
#include "dataplane/admin/admin_server.h"
#include "dataplane/cache/admin.h"
#include "dataplane/cache/metrics.h"
#include "dataplane/config/config_client.h"
#include "dataplane/observe/dataplane_metrics.h"
#include "dataplane/observe/route_series.h"
#include "dataplane/proxy/runtime.h"
#include "dataplane/tls/config_dialer.h"
#include "dataplane/tls/server_context.h"
#include "dataplane/tls/upstream_tls.h"

namespace keel::dataplane {
namespace {

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "dataplane";
  return buf;
}

// The applied runtime, kept here for the admin endpoints and for building the next one.
struct Current {
  std::mutex mu;
  std::shared_ptr<const proxy::Runtime> runtime;
  uint64_t applies = 0;
  int64_t last_apply_unix_ms = 0;
  bool last_apply_ok = false;
};

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

admin::Reply ConfigDump(std::shared_ptr<const ::keel::config::v1::Snapshot> held) {
  admin::Reply r;
  r.content_type = "application/json";
  if (!held) {
    r.body = "{}\n";
    return r;
  }
  ::keel::config::v1::Snapshot copy = *held;
  for (auto& cert : *copy.mutable_certificates()) cert.clear_private_key_pem();  // never dump key material
  // Nor password hashes (they can be cracked offline): users stay visible.
  auto redact = [](::keel::config::v1::Route& route) {
    if (!route.has_policy()) return;
    for (auto& line : *route.mutable_policy()->mutable_basic_auth_users())
      line = line.substr(0, line.find(':')) + ":<redacted>";
  };
  for (auto& vh : *copy.mutable_virtual_hosts()) {
    for (auto& route : *vh.mutable_routes()) redact(route);
  }
  for (auto& route : *copy.mutable_default_routes()) redact(route);
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(copy, &json, opts).ok()) {
    r.status = 500;
    r.body = "{\"error\":\"cannot render snapshot\"}\n";
    return r;
  }
  r.body = std::move(json);
  return r;
}

}  // namespace

int Run(const AppOptions& options) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGPIPE);
  // Block before any thread starts so every thread inherits the mask; sigwait below.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  observe::SetNginxCompat(options.metrics_compat_nginx);
  observe::AccessLog::Default().Start(options.access_log);
  proxy::ProxyOptions proxy_options = options.proxy;
  if (auto upstream_tls = tls::ClientContext::Create(); upstream_tls.ok()) {
    proxy_options.upstream_tls = *upstream_tls;
  } else {
    KEEL_LOG(Error, "dataplane") << "upstream TLS: " << upstream_tls.error();
    return 1;
  }
  if (!options.https_listen.empty()) {
    auto tls = tls::ServerContext::Create();
    if (!tls.ok()) {
      KEEL_LOG(Error, "dataplane") << "TLS: " << tls.error();
      return 1;
    }
    proxy_options.tls = *tls;
  }
  std::vector<std::unique_ptr<proxy::Worker>> workers;
  proxy_options.workers = static_cast<uint32_t>(options.workers);
  for (int i = 0; i < options.workers; ++i) {
    workers.push_back(std::make_unique<proxy::Worker>(i, proxy_options));
    if (auto st = workers.back()->Listen(options.http_listen); !st.ok()) {
      KEEL_LOG(Error, "dataplane") << st.error();
      return 1;
    }
    if (options.https_listen.empty()) continue;
    if (auto st = workers.back()->Listen(options.https_listen, /*tls=*/true); !st.ok()) {
      KEEL_LOG(Error, "dataplane") << "https: " << st.error();
      return 1;
    }
  }

  Current current;
  std::atomic<bool> draining{false};
  dataplane::config::ClientOptions copts;
  copts.controller_address = options.controller;
  copts.node_id = options.node_id.empty() ? Hostname() : options.node_id;
  copts.build_version = KEEL_VERSION;
  std::shared_ptr<tls::ConfigDialer> dialer;
  if (!options.insecure_config_channel) {
    tls::DialerOptions dopts;
    dopts.address = options.controller;
    dopts.cert_file = options.config_tls_cert;
    dopts.key_file = options.config_tls_key;
    dopts.ca_file = options.config_tls_ca;
    dopts.server_name = options.config_tls_server_name;
    auto d = tls::ConfigDialer::Create(dopts);
    if (!d.ok()) {
      KEEL_LOG(Error, "dataplane") << "config channel TLS: " << d.error();
      return 2;
    }
    dialer = *d;
    copts.channel_factory = [dialer] {
      grpc::ChannelArguments args;
      dataplane::config::ConfigClient::SetChannelArguments(&args);
      return dialer->Dial(args);
    };
  }
  // Full snapshots and endpoint deltas end alike: hand the new runtime to every worker
  // and record the apply for /readyz and the metrics, or record the failure.
  auto running = [&] {
    std::lock_guard<std::mutex> lock(current.mu);
    return current.runtime;
  };
  auto publish = [&](Result<std::shared_ptr<const proxy::Runtime>>& rt) -> Status {
    if (!rt.ok()) {
      std::lock_guard<std::mutex> lock(current.mu);
      current.last_apply_ok = false;
      return Error{rt.error()};
    }
    for (auto& w : workers) w->SetRuntime(*rt);
    std::lock_guard<std::mutex> lock(current.mu);
    current.runtime = *rt;
    current.applies++;
    current.last_apply_unix_ms = UnixMs();
    current.last_apply_ok = true;
    return Status::Ok();
  };
  auto apply = [&](std::shared_ptr<const ::keel::config::v1::Snapshot> snapshot) -> Status {
    std::shared_ptr<const proxy::Runtime> previous = running();
    auto rt = proxy::Runtime::Build(std::move(snapshot), previous.get());
    if (auto st = publish(rt); !st.ok()) return st;
    KEEL_LOG(Info, "dataplane") << "applied snapshot " << (*rt)->version();
    return Status::Ok();
  };
  copts.apply_delta = [&](std::shared_ptr<const dataplane::config::HeldConfig> next,
                          const ::keel::config::v1::EndpointDelta& delta) -> Status {
    std::shared_ptr<const proxy::Runtime> previous = running();
    // Not the delta's base (should not happen: the client checked the snapshot it
    // holds): rebuild from the merged snapshot instead.
    auto rt = previous && previous->version() == delta.base_version()
                  ? proxy::Runtime::ApplyDelta(*previous, next->base(), delta)
                  : proxy::Runtime::Build(next->Materialize(), previous.get());
    if (auto st = publish(rt); !st.ok()) return st;
    KEEL_LOG(Debug, "dataplane") << "applied endpoint delta " << (*rt)->version() << " ("
                                 << delta.clusters_size() << " clusters)";
    return Status::Ok();
  };
  dataplane::config::ConfigClient client(copts, apply);

  admin::AdminServer admin;
  admin.Handle("/healthz", [](const std::string&, const std::string&) {
    return admin::Reply{200, "text/plain", "ok\n"};
  });
  admin.Handle("/readyz", [&](const std::string&, const std::string&) {
    if (draining.load()) return admin::Reply{503, "text/plain", "draining\n"};
    if (!client.has_snapshot()) return admin::Reply{503, "text/plain", "no snapshot yet\n"};
    return admin::Reply{200, "text/plain", "ready " + client.version() + "\n"};
  });
  admin.Handle("/config_dump",
               [&](const std::string&, const std::string&) { return ConfigDump(client.snapshot()); });
  admin.Handle("/stats", [&](const std::string&, const std::string&) {
    uint64_t open = 0, total = 0, requests = 0, retries = 0, upstream_errors = 0;
    for (auto& w : workers) {
      auto& s = w->stats();
      open += s.connections_open.load();
      total += s.connections_total.load();
      requests += s.requests.load();
      retries += s.retries.load();
      upstream_errors += s.upstream_errors.load();
    }
    std::string body =
        "{\"connections_open\":" + std::to_string(open) + ",\"connections_total\":" + std::to_string(total) +
        ",\"requests\":" + std::to_string(requests) + ",\"retries\":" + std::to_string(retries) +
        ",\"upstream_errors\":" + std::to_string(upstream_errors) + ",\"config_version\":\"" +
        client.version() + "\",\"config_connected\":" + (client.connected() ? "true" : "false") +
        ",\"nacks\":" + std::to_string(client.nack_count());
    if (proxy_options.tls) {
      const auto& t = proxy_options.tls->stats();
      body += ",\"tls_handshakes\":{\"tls1_2\":" + std::to_string(t.tls12.Value()) +
              ",\"tls1_3\":" + std::to_string(t.tls13.Value()) +
              ",\"resumed\":" + std::to_string(t.resumed.Value()) +
              ",\"failed\":" + std::to_string(t.failed.Value()) +
              ",\"timed_out\":" + std::to_string(t.timed_out.Value()) + "}";
    }
    body += "}\n";
    return admin::Reply{200, "application/json", body};
  });
  if (auto store = options.proxy.cache) {
    admin.Handle("/cache/purge", [store](const std::string& method, const std::string& target) {
      auto a = cache::HandlePurge(*store, method, target);
      return admin::Reply{a.status, a.status == 200 ? "application/json" : "text/plain; charset=utf-8",
                          a.body};
    });
    admin.Handle("/cache/stats", [store](const std::string&, const std::string&) {
      return admin::Reply{200, "application/json", cache::StatsJson(*store)};
    });
  }
  if (auto st = admin.Start(options.admin_listen); !st.ok()) {
    KEEL_LOG(Error, "dataplane") << "admin: " << st.error();
    return 1;
  }

  observe::DataplaneSources sources;
  for (auto& w : workers) sources.workers.push_back(w.get());
  sources.config = [&]() {
    observe::ConfigState cs;
    cs.version = client.version();
    cs.connected = client.connected();
    cs.nacks = client.nack_count();
    std::lock_guard<std::mutex> lock(current.mu);
    cs.applies = current.applies;
    cs.last_apply_unix_ms = current.last_apply_unix_ms;
    cs.last_apply_ok = current.last_apply_ok;
    return cs;
  };
  sources.runtime = [&]() {
    std::lock_guard<std::mutex> lock(current.mu);
    return current.runtime;
  };
  // Scrape-time collectors that read this function's state live in a registry that
  // dies with it; the process-wide one holds the per-request series.
  metrics::Registry run_registry;
  observe::RegisterDataplaneCollector(&run_registry, sources);
  if (options.proxy.cache) cache::RegisterCacheCollector(&run_registry, options.proxy.cache);
  metrics::MetricsServer metrics_server;
  metrics_server.AlsoServe(&run_registry);
  if (!options.metrics_listen.empty()) {
    if (auto st = metrics_server.Start(options.metrics_listen); !st.ok()) {
      KEEL_LOG(Error, "dataplane") << st.error();
      return 1;
    }
    KEEL_LOG(Info, "dataplane") << "metrics on " << options.metrics_listen << " (port "
                                << metrics_server.port() << ")";
  }

  for (auto& w : workers) w->Start();
  client.Start();
  KEEL_LOG(Info, "dataplane") << "serving HTTP on " << options.http_listen
                              << (options.https_listen.empty() ? "" : ", HTTPS on " + options.https_listen)
                              << " with " << options.workers << " workers; admin on " << options.admin_listen
                              << " (port " << admin.port() << "); controller " << options.controller;

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGTERM || sig == SIGINT) break;
  }
  KEEL_LOG(Info, "dataplane") << "draining for up to " << options.drain_timeout_ms << " ms";
  draining = true;
  for (auto& w : workers) w->Drain(options.drain_timeout_ms);
  for (auto& w : workers) w->Join();
  client.Stop();
  admin.Stop();
  metrics_server.Stop();
  observe::AccessLog::Default().Stop();
  KEEL_LOG(Info, "dataplane") << "stopped";
  return 0;
}

}  // namespace keel::dataplane
