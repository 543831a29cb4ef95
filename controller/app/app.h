// The controller process as a whole: a source of objects (the Kubernetes API or a
// manifests folder) fills the Store; every burst of changes is translated once
// (endpoint-only bursts through the fast path) and published to the dataplanes.
#pragma once

#include <string>

#include "controller/translate/translate.h"

namespace keel::controller {

struct AppOptions {
  std::string kubeconfig;
  std::string manifests;
  std::string watch_namespace;
  std::string config_listen = "0.0.0.0:18000";
  std::string metrics_listen;  // /metrics, /healthz, /readyz, diagnostics; empty: off
  bool metrics_compat_nginx = false;
  bool insecure_config_channel = false;
  std::string tls_cert, tls_key, tls_ca;
  translate::TranslateOptions translate;
  // Status and Events (API mode only; manifests mode logs them instead).
  std::string publish_service, publish_address;
  bool leader_elect = true;
  std::string election_id = "keel-controller-leader";
};

// Runs until SIGTERM/SIGINT. Returns the process exit code.
int Run(const AppOptions& options);

}  // namespace keel::controller
