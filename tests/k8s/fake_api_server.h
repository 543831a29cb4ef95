// Test support: runs e2e/fakeapi/fakeapi.py as a child process on 127.0.0.1 and
// talks to its /__fake/ hooks. The child dies with the test (SIGTERM in the
// destructor, PR_SET_PDEATHSIG if the test process crashes).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controller/k8s/api_client.h"
#include "controller/k8s/config.h"

namespace keel::k8s::testing {

// Paths baked in at configure time (tests/k8s/CMakeLists.txt).
std::string TestdataPath(const std::string& name);  // tests/k8s/testdata/<name>
std::string ReadTestdata(const std::string& name);

struct FakeApiOptions {
  std::vector<std::string> tokens;  // empty: no authentication
  std::string state_file;
  int history = 1000;
  double bookmark_interval = 60;
  bool tls = false;        // serve HTTPS with testdata/tls/server.{crt,key}
  bool client_ca = false;  // with tls: accept client certificates signed by testdata/tls/ca.crt
  int port = 0;            // 0: any free port
};

class FakeApiServer {
 public:
  // Starts the server and waits for its port. Null (with *error set) on failure.
  static std::unique_ptr<FakeApiServer> Start(const FakeApiOptions& options, std::string* error);
  ~FakeApiServer();

  // SIGKILL and reap: an abrupt crash, connections reset.
  void Kill();

  int port() const { return port_; }
  std::string url() const;
  // A ClusterConfig for this server: the test CA when TLS, the given static token.
  ClusterConfig Config(const std::string& token = "") const;

  // POST/GET a /__fake/<hook> (no auth needed). Aborts the test on transport errors.
  nlohmann::json Admin(const std::string& hook, const nlohmann::json& body = nullptr, bool post = true);

 private:
  FakeApiServer(pid_t pid, int port, FakeApiOptions options);
  pid_t pid_;
  int port_;
  FakeApiOptions options_;
  std::unique_ptr<ApiClient> admin_;
};

// Polls `pred` every 5 ms until it holds or `timeout` passes (for conditions on
// counters or server state that no sink call signals).
bool Eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Creates namespace `ns` through `client`; returns false (after ADD_FAILURE) on error.
bool CreateNamespace(ApiClient* client, const std::string& ns);

// Minimal objects of each kind the controller watches.
nlohmann::json MakeService(const std::string& ns, const std::string& name, int port = 80);
nlohmann::json MakeIngress(const std::string& ns, const std::string& name, const std::string& host);
nlohmann::json MakeIngressClass(const std::string& name);
nlohmann::json MakeEndpointSlice(const std::string& ns, const std::string& name, const std::string& service,
                                 const std::string& ip);
nlohmann::json MakeSecret(const std::string& ns, const std::string& name, const std::string& type);

}  // namespace keel::k8s::testing
