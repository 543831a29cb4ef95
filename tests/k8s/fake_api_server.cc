// FakeApiServer: fork/exec of fakeapi.py, port handshake over a pipe, teardown.
#include "tests/k8s/fake_api_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace keel::k8s::testing {

std::string TestdataPath(const std::string& name) { return std::string(KEEL_K8S_TESTDATA) + "/" + name; }

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(TestdataPath(name), std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

FakeApiServer::FakeApiServer(pid_t pid, int port, FakeApiOptions options)
    : pid_(pid), port_(port), options_(std::move(options)) {
  auto admin = ApiClient::Create(Config());
  if (admin) admin_ = std::move(admin.value());
}

std::unique_ptr<FakeApiServer> FakeApiServer::Start(const FakeApiOptions& o, std::string* error) {
  std::vector<std::string> args = {KEEL_PYTHON3,
                                   KEEL_FAKEAPI,
                                   "--port",
                                   std::to_string(o.port),
                                   "--history",
                                   std::to_string(o.history),
                                   "--bookmark-interval",
                                   std::to_string(o.bookmark_interval)};
  for (const auto& t : o.tokens) args.insert(args.end(), {"--token", t});
  if (!o.state_file.empty()) args.insert(args.end(), {"--state-file", o.state_file});
  if (o.tls) {
    args.insert(args.end(),
                {"--tls-cert", TestdataPath("tls/server.crt"), "--tls-key", TestdataPath("tls/server.key")});
    if (o.client_ca) args.insert(args.end(), {"--client-ca", TestdataPath("tls/ca.crt")});
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *error = "pipe2 failed";
    return nullptr;
  }
  pid_t pid = fork();
  if (pid < 0) {
    *error = "fork failed";
    return nullptr;
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec (the parent has threads).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], STDOUT_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[64];
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int port = 0;
  try {
    port = std::stoi(line);
  } catch (const std::exception&) {
    port = 0;
  }
  if (port <= 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    *error = "fakeapi did not report its port (got \"" + line + "\")";
    return nullptr;
  }
  return std::unique_ptr<FakeApiServer>(new FakeApiServer(pid, port, o));
}

FakeApiServer::~FakeApiServer() {
  admin_.reset();
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
}

void FakeApiServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string FakeApiServer::url() const {
  return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

ClusterConfig FakeApiServer::Config(const std::string& token) const {
  ClusterConfig c;
  c.server = url();
  c.token = token;
  if (options_.tls) {
    std::ifstream in(TestdataPath("tls/ca.crt"));
    std::ostringstream ss;
    ss << in.rdbuf();
    c.ca_pem = ss.str();
  }
  return c;
}

nlohmann::json FakeApiServer::Admin(const std::string& hook, const nlohmann::json& body, bool post) {
  if (!admin_) {
    ADD_FAILURE() << "no admin client";
    return nullptr;
  }
  auto r = admin_->Request(post ? Method::Post : Method::Get, "/__fake/" + hook, post ? &body : nullptr);
  if (!r || !r->ok()) {
    ADD_FAILURE() << "admin " << hook << ": " << (r ? r->status().Describe() : r.error());
    return nullptr;
  }
  return r->body;
}

bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

bool CreateNamespace(ApiClient* client, const std::string& ns) {
  auto r = client->Post("/api/v1/namespaces",
                        {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  if (!r) ADD_FAILURE() << "create namespace " << ns << ": " << r.error();
  return r.ok();
}

nlohmann::json MakeService(const std::string& ns, const std::string& name, int port) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"ports", {{{"name", "http"}, {"port", port}, {"targetPort", 8080}}}}}}};
}

nlohmann::json MakeIngress(const std::string& ns, const std::string& name, const std::string& host) {
  nlohmann::json backend = {{"service", {{"name", "echo"}, {"port", {{"number", 80}}}}}};
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "Ingress"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"ingressClassName", "keel"},
            {"rules",
             {{{"host", host},
               {"http", {{"paths", {{{"path", "/"}, {"pathType", "Prefix"}, {"backend", backend}}}}}}}}}}}};
}

nlohmann::json MakeIngressClass(const std::string& name) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "IngressClass"},
          {"metadata", {{"name", name}}},
          {"spec", {{"controller", "keel.dev/ingress-controller"}}}};
}

nlohmann::json MakeEndpointSlice(const std::string& ns, const std::string& name, const std::string& service,
                                 const std::string& ip) {
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata",
           {{"name", name}, {"namespace", ns}, {"labels", {{"kubernetes.io/service-name", service}}}}},
          {"addressType", "IPv4"},
          {"ports", {{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}},
          {"endpoints", {{{"addresses", {ip}}, {"conditions", {{"ready", true}}}}}}};
}

nlohmann::json MakeSecret(const std::string& ns, const std::string& name, const std::string& type) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"type", type},
          {"data", {{"tls.crt", "Y2VydA=="}, {"tls.key", "a2V5"}}}};
}

}  // namespace keel::k8s::testing
