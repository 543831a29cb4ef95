// In-cluster and kubeconfig loading (yaml-cpp), field names as in client-go's
// clientcmd/api/v1 types.
#include "controller/k8s/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace keel::k8s {
namespace {

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(s.find_last_not_of(ws) + 1);
  s.erase(0, s.find_first_not_of(ws));
  return s;
}

// The entry of `list` (clusters, users, contexts) whose name is `name`.
std::optional<YAML::Node> FindNamed(const YAML::Node& list, const std::string& name, const char* field) {
  if (!list || !list.IsSequence()) return std::nullopt;
  for (const auto& entry : list) {
    if (entry["name"] && entry["name"].as<std::string>() == name && entry[field]) return entry[field];
  }
  return std::nullopt;
}

std::string Str(const YAML::Node& n, const char* key) {
  return n && n[key] && n[key].IsScalar() ? n[key].as<std::string>() : std::string();
}

std::string Resolve(const std::string& path, const std::filesystem::path& dir) {
  std::filesystem::path p(path);
  return p.is_absolute() ? path : (dir / p).string();
}

// Loads "<key>-data" (base64) or "<key>" (a file path) into *out.
Status LoadPem(const YAML::Node& n, const std::string& key, const std::filesystem::path& dir,
               std::string* out) {
  std::string data = Str(n, (key + "-data").c_str());
  if (!data.empty()) {
    auto decoded = DecodeBase64(data);
    if (!decoded) return Error{key + "-data: " + decoded.error()};
    *out = std::move(decoded.value());
    return Status::Ok();
  }
  std::string file = Str(n, key.c_str());
  if (file.empty()) return Status::Ok();
  auto content = ReadFile(Resolve(file, dir));
  if (!content) return Error{key + ": " + content.error()};
  *out = std::move(content.value());
  return Status::Ok();
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::string> DecodeBase64(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    int v = value(c);
    if (v < 0 || pad > 0) return Error{"invalid base64"};
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (pad > 2 || bits >= 6) return Error{"invalid base64 length"};
  return out;
}

Result<ClusterConfig> LoadInCluster(const std::string& base_dir, const char* host, const char* port) {
  if (!host) host = std::getenv("KUBERNETES_SERVICE_HOST");
  if (!port) port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    return Error{
        "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
        "must be defined"};
  }
  ClusterConfig c;
  std::string h = host;
  // An IPv6 service address needs brackets in a URL (RFC 3986 section 3.2.2).
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  c.server = "https://" + h + ":" + port;
  c.token_file = base_dir + "/token";
  auto token = ReadFile(c.token_file);
  if (!token) return Error{"in-cluster: " + token.error()};
  if (Trim(token.value()).empty()) return Error{"in-cluster: empty token in " + c.token_file};
  auto ca = ReadFile(base_dir + "/ca.crt");
  if (!ca) return Error{"in-cluster: " + ca.error()};
  c.ca_pem = std::move(ca.value());
  if (auto ns = ReadFile(base_dir + "/namespace")) c.namespace_ = Trim(ns.value());
  return c;
}

namespace {

Result<ClusterConfig> ParseKubeconfig(const YAML::Node& root, const std::string& path,
                                      const std::string& context) {
  const auto dir = std::filesystem::path(path).parent_path();
  std::string ctx_name = context.empty() ? Str(root, "current-context") : context;
  if (ctx_name.empty()) return Error{"kubeconfig " + path + ": no current-context and no context given"};
  auto found_ctx = FindNamed(root["contexts"], ctx_name, "context");
  if (!found_ctx) return Error{"kubeconfig " + path + ": context \"" + ctx_name + "\" not found"};
  const YAML::Node ctx = *found_ctx;
  std::string cluster_name = Str(ctx, "cluster"), user_name = Str(ctx, "user");
  auto found_cluster = FindNamed(root["clusters"], cluster_name, "cluster");
  if (!found_cluster) return Error{"kubeconfig " + path + ": cluster \"" + cluster_name + "\" not found"};

  const YAML::Node cluster = *found_cluster;
  ClusterConfig c;
  c.server = Str(cluster, "server");
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  if (c.server.empty())
    return Error{"kubeconfig " + path + ": cluster \"" + cluster_name + "\" has no server"};
  c.namespace_ = Str(ctx, "namespace");
  c.insecure_skip_tls_verify =
      cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>();
  if (Status s = LoadPem(cluster, "certificate-authority", dir, &c.ca_pem); !s) return Error{s.error()};

  if (user_name.empty()) return c;
  auto found_user = FindNamed(root["users"], user_name, "user");
  if (!found_user) return Error{"kubeconfig " + path + ": user \"" + user_name + "\" not found"};
  const YAML::Node user = *found_user;
  if (user["exec"] || user["auth-provider"]) {
    return Error{"kubeconfig " + path + ": user \"" + user_name +
                 "\": exec and auth-provider plugins are not supported; use a token or client certificate"};
  }
  if (user["username"] || user["password"]) {
    return Error{"kubeconfig " + path + ": user \"" + user_name + "\": basic auth is not supported"};
  }
  c.token = Str(user, "token");
  std::string token_file = Str(user, "tokenFile");
  if (!token_file.empty()) c.token_file = Resolve(token_file, dir);
  if (Status s = LoadPem(user, "client-certificate", dir, &c.client_cert_pem); !s) return Error{s.error()};
  if (Status s = LoadPem(user, "client-key", dir, &c.client_key_pem); !s) return Error{s.error()};
  if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
    return Error{"kubeconfig " + path + ": user \"" + user_name +
                 "\": client-certificate and client-key must be given together"};
  }
  return c;
}

}  // namespace

Result<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  // yaml-cpp reports malformed files and wrongly typed fields by throwing; this is the
  // one place those exceptions become values.
  try {
    return ParseKubeconfig(YAML::LoadFile(path), path, context);
  } catch (const YAML::Exception& e) {
    return Error{"kubeconfig " + path + ": " + e.what()};
  }
}

}  // namespace keel::k8s
