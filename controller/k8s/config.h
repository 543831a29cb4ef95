// Where the API server is and how to authenticate to it: from the pod's service
// account (in-cluster) or from a kubeconfig file (current-context, or a named one).
#pragma once

#include <string>

#include "common/result.h"

namespace keel::k8s {

inline constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";

// Plain data: PEM material is loaded into memory; only the bearer token may stay a
// file path, because projected service-account tokens rotate (see TokenSource).
struct ClusterConfig {
  std::string server;  // "https://10.96.0.1:443" (no trailing slash)
  std::string ca_pem;  // trusted roots; empty: the system's default trust store
  bool insecure_skip_tls_verify = false;
  std::string token;       // static bearer token
  std::string token_file;  // bearer token re-read from this file (wins over `token`)
  std::string client_cert_pem, client_key_pem;
  std::string namespace_;  // the service account's / context's namespace, if any
};

// The service-account files under `base_dir` (token, ca.crt, namespace) and the
// KUBERNETES_SERVICE_HOST / _PORT environment, as client-go's InClusterConfig.
// `host` and `port` override the environment (tests).
Result<ClusterConfig> LoadInCluster(const std::string& base_dir = kServiceAccountDir,
                                    const char* host = nullptr, const char* port = nullptr);

// A kubeconfig file. `context` empty: its current-context. Relative file paths in it
// resolve against the kubeconfig's directory, as kubectl does. Exec/auth-provider
// plugins and basic auth are rejected with a clear error.
Result<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");

// RFC 4648 base64 (the kubeconfig "-data" fields); Error on bad input.
Result<std::string> DecodeBase64(const std::string& text);

// Reads a whole file; Error names the path.
Result<std::string> ReadFile(const std::string& path);

}  // namespace keel::k8s
