// Real kubectl against the fake API server (HTTPS + bearer token: kubectl sends no
// token over plain HTTP): apply (client-side and --server-side), get, get -o yaml,
// get -w, delete, while our ListWatcher follows the same objects. Skipped when no
// kubectl is installed ($KUBECTL, PATH, or .cache/tools/bin from install-deps.sh).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "controller/k8s/list_watch.h"
#include "tests/k8s/fake_api_server.h"
#include "tests/k8s/recording_sink.h"

namespace keel::k8s {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using store::Kind;
using testing::RecordingSink;

std::string FindKubectl() {
  if (const char* env = std::getenv("KUBECTL"); env && access(env, X_OK) == 0) return env;
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    for (size_t start = 0, end; start <= p.size(); start = end + 1) {
      end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      std::string candidate = p.substr(start, end - start) + "/kubectl";
      if (end > start && access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  std::string cached = std::string(KEEL_SOURCE_DIR) + "/.cache/tools/bin/kubectl";
  return access(cached.c_str(), X_OK) == 0 ? cached : "";
}

// A shell command with its stdout+stderr on a pipe, killable mid-run.
class Child {
 public:
  explicit Child(const std::string& command) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      dup2(fds[1], STDERR_FILENO);
      execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }
  // Reads until `pattern` appears in the output or `timeout` passes.
  bool WaitFor(const std::string& pattern, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out_.find(pattern) == std::string::npos) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) return out_.find(pattern) != std::string::npos;
      out_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }
  // Waits for exit; returns the exit code (-1 if killed by a signal).
  int Wait() {
    WaitFor(std::string(1, '\0'), 60s);  // drains the pipe until EOF
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  const std::string& output() const { return out_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
};

class KubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubectl_ = FindKubectl();
    if (kubectl_.empty()) GTEST_SKIP() << "kubectl not found ($KUBECTL, PATH, .cache/tools/bin)";
    testing::FakeApiOptions o;
    o.tls = true;
    o.tokens = {"kubectl-token"};
    std::string err;
    server_ = testing::FakeApiServer::Start(o, &err);
    ASSERT_TRUE(server_) << err;
    dir_ = fs::temp_directory_path() / ("keel-kubectl-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "kubeconfig")
        << "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
        << "clusters:\n- name: fake\n  cluster:\n    server: " << server_->url()
        << "\n    certificate-authority: " << testing::TestdataPath("tls/ca.crt")
        << "\nusers:\n- name: u\n  user:\n    token: kubectl-token\n"
        << "contexts:\n- name: fake\n  context: {cluster: fake, user: u}\n";
    std::ofstream(dir_ / "ns.yaml") << "apiVersion: v1\nkind: Namespace\nmetadata: {name: wire}\n";
    std::string fixtures = testing::ReadTestdata("00-fixtures.yaml");
    std::ofstream(dir_ / "fixtures.yaml") << fixtures;
    std::ofstream(dir_ / "fixtures2.yaml")
        << std::regex_replace(fixtures, std::regex("path: /exact,"), "path: /exact2,");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string Cmd(const std::string& args) const {
    return kubectl_ + " --kubeconfig " + (dir_ / "kubeconfig").string() + " --cache-dir " +
           (dir_ / "cache").string() + " " + args;
  }
  // Runs kubectl to completion; returns its output, failing the test on a non-zero exit.
  std::string Run(const std::string& args) {
    Child c(Cmd(args));
    int code = c.Wait();
    EXPECT_EQ(code, 0) << "kubectl " << args << "\n" << c.output();
    return c.output();
  }
  std::string Path(const char* name) const { return (dir_ / name).string(); }

  std::string kubectl_;
  std::unique_ptr<testing::FakeApiServer> server_;
  fs::path dir_;
};

TEST_F(KubectlTest, ApplyGetWatchDelete) {
  auto client = ApiClient::Create(server_->Config("kubectl-token"));
  ASSERT_TRUE(client) << client.error();
  RecordingSink sink;
  WatchOptions wo;
  wo.kinds = {Kind::Ingress, Kind::Service, Kind::EndpointSlice, Kind::IngressClass};
  ListWatcher watcher(client.value().get(), &sink, wo);
  watcher.Start();
  ASSERT_TRUE(watcher.WaitForSync(10s));

  std::string out = Run("apply -f " + Path("ns.yaml") + " -f " + Path("fixtures.yaml"));
  EXPECT_NE(out.find("namespace/wire created"), std::string::npos) << out;
  EXPECT_NE(out.find("ingress.networking.k8s.io/web created"), std::string::npos) << out;
  out = Run("apply -f " + Path("fixtures.yaml"));
  EXPECT_NE(out.find("ingress.networking.k8s.io/web unchanged"), std::string::npos) << out;
  ASSERT_TRUE(sink.WaitFor([](const RecordingSink& s) {
    return s.Has(Kind::Ingress, "wire/web") && s.Has(Kind::Service, "wire/echo") &&
           s.Has(Kind::EndpointSlice, "wire/echo-abc12") && s.Has(Kind::IngressClass, "wire-class");
  }));

  out = Run("apply --server-side -f " + Path("fixtures2.yaml"));
  EXPECT_NE(out.find("ingress.networking.k8s.io/web serverside-applied"), std::string::npos) << out;
  EXPECT_EQ(Run("get ingress web -n wire -o jsonpath={.spec.rules[0].http.paths[1].path}"), "/exact2");
  out = Run("get ingress -n wire");
  EXPECT_NE(out.find("wire-class"), std::string::npos) << out;
  EXPECT_NE(out.find("demo.example.test"), std::string::npos) << out;
  out = Run("get ingress web -n wire -o yaml");
  EXPECT_NE(out.find("path: /exact2"), std::string::npos) << out;
  EXPECT_NE(out.find("kind: Ingress"), std::string::npos) << out;

  Child watch(Cmd("get ingress -n wire -w --output-watch-events"));
  ASSERT_TRUE(watch.WaitFor("ADDED", 10s)) << watch.output();
  Run("annotate ingress web -n wire keel.dev/touched=yes");
  EXPECT_TRUE(watch.WaitFor("MODIFIED", 10s)) << watch.output();
  ASSERT_TRUE(sink.WaitFor([](const RecordingSink& s) {
    return s.Has(Kind::Ingress, "wire/web") &&
           s.objects(Kind::Ingress).at("wire/web")["metadata"]["annotations"].contains("keel.dev/touched");
  }));

  out = Run("delete -f " + Path("fixtures2.yaml"));
  EXPECT_NE(out.find("ingress.networking.k8s.io \"web\" deleted"), std::string::npos) << out;
  EXPECT_TRUE(watch.WaitFor("DELETED", 10s)) << watch.output();
  out = Run("get ingress -n wire");
  EXPECT_NE(out.find("No resources found"), std::string::npos) << out;
  ASSERT_TRUE(sink.WaitFor([](const RecordingSink& s) {
    return !s.Has(Kind::Ingress, "wire/web") && !s.Has(Kind::Service, "wire/echo");
  }));
  watcher.Stop();
  EXPECT_EQ(watcher.counters().of(Kind::Ingress).deleted.load(), 1u);
}

}  // namespace
}  // namespace keel::k8s
