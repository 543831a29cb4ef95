// Kubeconfig and in-cluster configuration loading.
#include "controller/k8s/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/k8s/fake_api_server.h"

namespace keel::k8s {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("keel-cfg-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    auto p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p.string();
  }
  fs::path dir_;
};

std::string Base64(const std::string& in) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += tbl[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += "=";
  }
  return out;
}

TEST(Base64Test, DecodesRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"Zg==", "f"},
                                                         {"Zm8=", "fo"},
                                                         {"Zm9v", "foo"},
                                                         {"Zm9vYg==", "foob"},
                                                         {"Zm9vYmE=", "fooba"},
                                                         {"Zm9vYmFy", "foobar"},
                                                         {"Zm9v\nYmFy", "foobar"}};
  for (const auto& [in, want] : vectors) {
    auto got = DecodeBase64(in);
    ASSERT_TRUE(got) << in;
    EXPECT_EQ(got.value(), want) << in;
  }
  EXPECT_FALSE(DecodeBase64("Zm9v!"));
  EXPECT_FALSE(DecodeBase64("Zg=x"));
  EXPECT_FALSE(DecodeBase64("Z"));
}

TEST_F(ConfigTest, KubeconfigCurrentContextWithTokenAndCaFile) {
  Write("pki/ca.crt", "CA PEM");
  std::string path = Write("kubeconfig", R"(apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: dev
  cluster: {server: "https://dev.example:6443", insecure-skip-tls-verify: true}
- name: prod
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority: pki/ca.crt
users:
- name: dev-user
  user: {token: dev-token}
- name: prod-user
  user: {token: prod-token}
contexts:
- name: dev
  context: {cluster: dev, user: dev-user}
- name: prod
  context: {cluster: prod, user: prod-user, namespace: edge}
)");
  auto c = LoadKubeconfig(path);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");
  EXPECT_EQ(c->ca_pem, "CA PEM");  // relative to the kubeconfig's directory
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->token, "prod-token");
  EXPECT_EQ(c->namespace_, "edge");

  auto dev = LoadKubeconfig(path, "dev");
  ASSERT_TRUE(dev) << dev.error();
  EXPECT_EQ(dev->server, "https://dev.example:6443");
  EXPECT_TRUE(dev->insecure_skip_tls_verify);
  EXPECT_EQ(dev->token, "dev-token");
  EXPECT_TRUE(dev->ca_pem.empty());

  auto missing = LoadKubeconfig(path, "staging");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("context \"staging\" not found"), std::string::npos) << missing.error();
}

TEST_F(ConfigTest, KubeconfigClientCertificateDataAndCaData) {
  std::string path = Write("kubeconfig",
                           "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                           "clusters:\n- name: k\n  cluster:\n    server: https://k:443\n"
                           "    certificate-authority-data: " +
                               Base64("CA DATA") +
                               "\n"
                               "users:\n- name: u\n  user:\n"
                               "    client-certificate-data: " +
                               Base64("CERT") +
                               "\n"
                               "    client-key-data: " +
                               Base64("KEY") +
                               "\n"
                               "contexts:\n- name: c\n  context: {cluster: k, user: u}\n");
  auto c = LoadKubeconfig(path);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->ca_pem, "CA DATA");
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_TRUE(c->token.empty());
}

TEST_F(ConfigTest, KubeconfigClientCertificateFilesAndTokenFile) {
  Write("certs/me.crt", "CERT FILE");
  Write("certs/me.key", "KEY FILE");
  Write("token", "file-token\n");
  std::string path = Write("kubeconfig", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
users: [{name: u, user: {client-certificate: certs/me.crt, client-key: certs/me.key, tokenFile: token}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
  auto c = LoadKubeconfig(path);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->client_cert_pem, "CERT FILE");
  EXPECT_EQ(c->client_key_pem, "KEY FILE");
  EXPECT_EQ(c->token_file, (dir_ / "token").string());
}

TEST_F(ConfigTest, KubeconfigErrorsAreClear) {
  auto nofile = LoadKubeconfig((dir_ / "absent").string());
  ASSERT_FALSE(nofile);
  std::string bad = Write("bad", "clusters: [unterminated\n");
  EXPECT_FALSE(LoadKubeconfig(bad));
  std::string no_ctx = Write("noctx", "clusters: []\ncontexts: []\n");
  auto r = LoadKubeconfig(no_ctx);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("no current-context"), std::string::npos);
  std::string exec = Write("exec", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
users: [{name: u, user: {exec: {command: aws}}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
  auto e = LoadKubeconfig(exec);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().find("exec"), std::string::npos);
  std::string half = Write("half", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
  EXPECT_FALSE(LoadKubeconfig(half));
  std::string bad_ca = Write("badca", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k", certificate-authority: missing.crt}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  auto ca = LoadKubeconfig(bad_ca);
  ASSERT_FALSE(ca);
  EXPECT_NE(ca.error().find("missing.crt"), std::string::npos);
}

TEST_F(ConfigTest, InClusterFromServiceAccountDirectory) {
  Write("sa/token", "sa-token\n");
  Write("sa/ca.crt", "SA CA");
  Write("sa/namespace", "ingress\n");
  auto c = LoadInCluster((dir_ / "sa").string(), "10.96.0.1", "443");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->ca_pem, "SA CA");
  EXPECT_EQ(c->token_file, (dir_ / "sa/token").string());  // re-read on rotation
  EXPECT_EQ(c->namespace_, "ingress");

  auto v6 = LoadInCluster((dir_ / "sa").string(), "fd00::1", "6443");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_EQ(v6->server, "https://[fd00::1]:6443");

  auto no_env = LoadInCluster((dir_ / "sa").string(), "", "");
  ASSERT_FALSE(no_env);
  EXPECT_NE(no_env.error().find("KUBERNETES_SERVICE_HOST"), std::string::npos);
  EXPECT_FALSE(LoadInCluster((dir_ / "nothing").string(), "10.96.0.1", "443"));
}

TEST_F(ConfigTest, InClusterReadsTheEnvironment) {
  Write("sa/token", "t");
  Write("sa/ca.crt", "CA");
  setenv("KUBERNETES_SERVICE_HOST", "10.1.2.3", 1);
  setenv("KUBERNETES_SERVICE_PORT", "8443", 1);
  auto c = LoadInCluster((dir_ / "sa").string());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://10.1.2.3:8443");
  EXPECT_TRUE(c->namespace_.empty());
}

}  // namespace
}  // namespace keel::k8s
