#include "controller/app/app.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>

#include "common/log.h"
#include "common/metrics/metrics_server.h"
#include "controller/app/reconciler.h"
#include "controller/app/status_sync.h"
#include "controller/k8s/api_client.h"
#include "controller/k8s/config.h"
#include "controller/k8s/list_watch.h"
#include "controller/observe/controller_metrics.h"
#include "controller/serve/config_server.h"
#include "controller/serve/debounce.h"
#include "controller/store/manifests.h"
#include "controller/store/store.h"
#include "controller/translate/x509_openssl.h"

namespace keel::controller {
namespace {
int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// The election identity: the pod name in a cluster (stable across restarts of the
// same pod, so it renews its own Lease at once), else host and pid.
std::string Identity() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return EnvOr("POD_NAME", std::string(host) + "_" + std::to_string(getpid()));
}

StatusInput MakeStatusInput(const store::StoreView& view, const translate::TranslateResult& result) {
  StatusInput in;
  in.diagnostics = result.diagnostics;
  for (const store::ObjectRef& ref : result.owned_ingresses) {
    auto it = view.ingresses().find(ref);
    if (it == view.ingresses().end()) continue;
    in.owned.push_back({ref, it->second->meta.uid, it->second->status});
  }
  for (const translate::Diagnostic& d : result.diagnostics) {
    if (d.kind == "Ingress") {
      auto it = view.ingresses().find({d.ns, d.name});
      if (it != view.ingresses().end()) in.ingress_uids[it->first] = it->second->meta.uid;
    } else if (d.kind == "Secret") {
      if (const store::TlsSecret* secret = view.FindSecret({d.ns, d.name})) {
        in.secret_uids[{d.ns, d.name}] = secret->meta.uid;
      }
    }
  }
  return in;
}
}  // namespace

int Run(const AppOptions& options) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts

  serve::ServerOptions sopts;
  sopts.listen_address = options.config_listen;
  if (!options.insecure_config_channel) {
    auto tls = serve::TlsOptions::FromFiles(options.tls_cert, options.tls_key, options.tls_ca);
    if (!tls.ok()) {
      KEEL_LOG(Error, "controller") << "config channel TLS: " << tls.error()
                                    << " (use --insecure-config-channel for local runs)";
      return 2;
    }
    sopts.tls = std::move(*tls);
  }
  serve::ConfigServer server;
  if (auto st = server.Start(sopts); !st.ok()) {
    KEEL_LOG(Error, "controller") << "config server: " << st.error();
    return 1;
  }

  store::Store store;
  translate::OpenSslCertificateValidator validator;
  translate::TranslateOptions topts = options.translate;
  if (!topts.certificate_validator) topts.certificate_validator = &validator;
  std::atomic<bool> published{false};
  std::atomic<uint64_t> published_count{0};
  Reconciler reconciler(
      &store, topts,
      [&](std::shared_ptr<const config::v1::Snapshot> s) {
        server.Publish(std::move(s));
        published = true;
        published_count++;
      },
      UnixMs);
  reconciler.SetPublishDelta([&](const config::v1::EndpointDelta& d) {
    if (!server.PublishEndpointDelta(d)) return false;
    published_count++;
    return true;
  });
  serve::Debouncer debouncer(serve::DebounceOptions{}, [&] { reconciler.Reconcile(); });
  store.SetChangeCallback([&](store::Kind) { debouncer.Trigger(); });

  std::unique_ptr<store::ManifestsSource> manifests;
  std::unique_ptr<k8s::ApiClient> api;
  std::unique_ptr<k8s::ListWatcher> watcher;
  if (!options.manifests.empty()) {
    store::ManifestsSource::Options mopts;
    mopts.poll_interval = std::chrono::milliseconds(200);
    manifests = std::make_unique<store::ManifestsSource>(options.manifests, &store, mopts);
  } else {
    auto cfg = options.kubeconfig.empty() ? k8s::LoadInCluster() : k8s::LoadKubeconfig(options.kubeconfig);
    if (!cfg.ok()) {
      KEEL_LOG(Error, "controller") << "kubernetes config: " << cfg.error();
      return 1;
    }
    auto client = k8s::ApiClient::Create(*cfg);
    if (!client.ok()) {
      KEEL_LOG(Error, "controller") << "kubernetes client: " << client.error();
      return 1;
    }
    api = std::move(*client);
    k8s::WatchOptions wopts;
    wopts.watch_namespace = options.watch_namespace;
    watcher = std::make_unique<k8s::ListWatcher>(api.get(), &store, wopts);
    KEEL_LOG(Info, "controller") << "watching " << cfg->server
                                 << (options.watch_namespace.empty()
                                         ? " (all namespaces)"
                                         : " namespace " + options.watch_namespace);
  }
  // Before the metrics registry: its leader gauge reads status_sync, which must outlive it.
  StatusSyncOptions status_options;
  status_options.publish_service = options.publish_service;
  status_options.publish_address = options.publish_address;
  status_options.leader_elect = options.leader_elect;
  status_options.election.lease_name = options.election_id;
  status_options.election.lease_namespace =
      EnvOr("POD_NAMESPACE", options.watch_namespace.empty() ? "default" : options.watch_namespace);
  status_options.election.identity = Identity();
  StatusSync status_sync(api.get(), status_options);
  status_sync.Start();
  // Collectors reading this function's objects live in a registry that dies with it.
  metrics::Registry run_registry;
  observe::ControllerSources msrc;
  msrc.store = &store;
  msrc.watcher = watcher.get();
  msrc.server = &server;
  msrc.diagnostics = [&reconciler] { return reconciler.diagnostics(); };
  msrc.published = [&published_count] { return published_count.load(); };
  msrc.nginx_compat = options.metrics_compat_nginx;
  msrc.leader = [&status_sync] { return status_sync.IsLeader(); };
  observe::RegisterControllerCollector(&run_registry, msrc);
  metrics::MetricsServer metrics_server;
  metrics_server.AlsoServe(&run_registry);
  metrics_server.Handle("/diagnostics", [&reconciler](const std::string&) {
    return metrics::HttpReply{200, "application/json", observe::DiagnosticsJson(reconciler.diagnostics())};
  });
  metrics_server.Handle("/healthz", [](const std::string&) { return metrics::HttpReply{200, "text/plain", "ok\n"}; });
  metrics_server.Handle("/readyz", [&published](const std::string&) {
    // Ready once the first snapshot is out: dataplanes connecting now get a world.
    if (!published.load()) return metrics::HttpReply{503, "text/plain", "no snapshot published yet\n"};
    return metrics::HttpReply{200, "text/plain", "ready\n"};
  });
  if (!options.metrics_listen.empty()) {
    if (auto st = metrics_server.Start(options.metrics_listen); !st.ok()) {
      KEEL_LOG(Error, "controller") << st.error();
      return 1;
    }
    KEEL_LOG(Info, "controller") << "metrics on " << options.metrics_listen << " (port " << metrics_server.port() << ")";
  }
  reconciler.SetTranslatedCallback(
      [&](const store::StoreView& view, const translate::TranslateResult& result) {
        status_sync.Update(MakeStatusInput(view, result));
      });
  // Sources start last: their first change may reconcile at once.
  if (manifests) {
    if (auto st = manifests->Start(); !st.ok()) {
      KEEL_LOG(Error, "controller") << "manifests: " << st.error();
      return 1;
    }
    KEEL_LOG(Info, "controller") << "reading objects from " << options.manifests;
  }
  if (watcher) watcher->Start();
  // An empty world is a world too: publish it so dataplanes become ready.
  debouncer.Trigger();
  KEEL_LOG(Info, "controller") << "config server on port " << server.port();

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGTERM || sig == SIGINT) break;
  }
  KEEL_LOG(Info, "controller") << "stopping";
  if (watcher) watcher->Stop();
  if (manifests) manifests->Stop();
  debouncer.Stop();
  status_sync.Stop();  // after the last reconcile; releases the Lease
  server.Stop();
  metrics_server.Stop();
  return 0;
}

}  // namespace keel::controller
