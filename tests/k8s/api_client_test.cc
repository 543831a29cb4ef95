// ApiClient against the fake API server: TLS (cluster CA, client certificates,
// insecure mode), request helpers for every verb and patch type, Status replies that
// match the captured bodies, cancellation.
#include "controller/k8s/api_client.h"

#include <gtest/gtest.h>

#include "tests/k8s/fake_api_server.h"

namespace keel::k8s {
namespace {

using testing::FakeApiOptions;
using testing::FakeApiServer;
using testing::ReadTestdata;

std::unique_ptr<FakeApiServer> Start(FakeApiOptions o) {
  std::string err;
  auto s = FakeApiServer::Start(o, &err);
  EXPECT_TRUE(s) << err;
  return s;
}

std::unique_ptr<ApiClient> Client(const ClusterConfig& c) {
  auto r = ApiClient::Create(c);
  EXPECT_TRUE(r) << r.error();
  return r ? std::move(r.value()) : nullptr;
}

nlohmann::json CapturedBody(const std::string& name) {
  std::string text = ReadTestdata(name);
  return nlohmann::json::parse(text.substr(0, text.rfind("HTTP ")));
}

TEST(ApiClientTest, TlsWithClusterCaAndToken) {
  FakeApiOptions o;
  o.tls = true;
  o.tokens = {"t0k3n"};
  auto server = Start(o);
  ASSERT_TRUE(server);
  auto client = Client(server->Config("t0k3n"));
  auto r = client->Get("/api/v1/namespaces/default");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r.value()["metadata"]["name"], "default");
}

TEST(ApiClientTest, TlsClientCertificateAuthenticates) {
  FakeApiOptions o;
  o.tls = true;
  o.client_ca = true;
  o.tokens = {"unused"};
  auto server = Start(o);
  ASSERT_TRUE(server);
  ClusterConfig c = server->Config();
  c.client_cert_pem = ReadTestdata("tls/client.crt");
  c.client_key_pem = ReadTestdata("tls/client.key");
  auto r = Client(c)->Request(Method::Get, "/api/v1/namespaces");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->code, 200);
  auto anonymous = Client(server->Config())->Request(Method::Get, "/api/v1/namespaces");
  ASSERT_TRUE(anonymous) << anonymous.error();
  EXPECT_EQ(anonymous->code, 403);
}

TEST(ApiClientTest, TlsRejectsAServerOutsideTheClusterCa) {
  FakeApiOptions o;
  o.tls = true;
  auto server = Start(o);
  ASSERT_TRUE(server);
  ClusterConfig c = server->Config();
  c.ca_pem = ReadTestdata("tls/client.crt");  // a leaf, not the CA that signed the server
  auto r = Client(c)->Request(Method::Get, "/version");
  EXPECT_FALSE(r);
  ClusterConfig insecure = server->Config();
  insecure.ca_pem.clear();
  insecure.insecure_skip_tls_verify = true;
  auto ok = Client(insecure)->Request(Method::Get, "/version");
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->body["gitVersion"], "v1.26.0");
}

TEST(ApiClientTest, BadConfigIsAnErrorAtCreate) {
  ClusterConfig c;
  c.server = "https://127.0.0.1:1";
  c.ca_pem = "not a certificate";
  EXPECT_FALSE(ApiClient::Create(c));
  c.ca_pem.clear();
  c.server = "ftp://example";
  EXPECT_FALSE(ApiClient::Create(c));
}

TEST(ApiClientTest, ErrorRepliesMatchTheCapturedStatusBodies) {
  auto server = Start({});
  ASSERT_TRUE(server);
  auto client = Client(server->Config());
  ASSERT_TRUE(testing::CreateNamespace(client.get(), "wire"));
  const std::string ings = "/apis/networking.k8s.io/v1/namespaces/wire/ingresses";

  auto nf = client->Request(Method::Get, ings + "/nope");
  ASSERT_TRUE(nf) << nf.error();
  EXPECT_EQ(nf->code, 404);
  EXPECT_EQ(nf->body, CapturedBody("11-notfound-404.txt"));

  auto bad = testing::MakeIngress("wire", "bad", "BAD_HOST");
  bad["spec"]["rules"][0]["http"]["paths"][0]["path"] = "nope";
  auto inv = client->Request(Method::Post, ings, &bad);
  ASSERT_TRUE(inv) << inv.error();
  EXPECT_EQ(inv->code, 422);
  EXPECT_EQ(inv->body, CapturedBody("13-invalid-422.txt"));

  auto web = client->Post(ings, testing::MakeIngress("wire", "web", "demo.example.test"));
  ASSERT_TRUE(web) << web.error();
  auto dup = client->Post(ings, testing::MakeIngress("wire", "web", "demo.example.test"));
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().find("HTTP 409 AlreadyExists"), std::string::npos) << dup.error();

  nlohmann::json stale = web.value();
  ASSERT_TRUE(client->Patch(ings + "/web", {{"metadata", {{"labels", {{"a", "b"}}}}}}, PatchType::Merge));
  auto conflict = client->Request(Method::Put, ings + "/web", &stale);
  ASSERT_TRUE(conflict) << conflict.error();
  EXPECT_EQ(conflict->code, 409);
  EXPECT_EQ(conflict->body, CapturedBody("08-conflict-409.txt"));
  EXPECT_EQ(conflict->status().reason, Reason::kConflict);
}

TEST(ApiClientTest, EveryVerbAndPatchType) {
  auto server = Start({});
  ASSERT_TRUE(server);
  auto client = Client(server->Config());
  const std::string svcs = "/api/v1/namespaces/default/services";
  auto created = client->Post(svcs, testing::MakeService("default", "echo"));
  ASSERT_TRUE(created) << created.error();
  EXPECT_EQ(created.value()["metadata"]["resourceVersion"].get<std::string>().empty(), false);
  EXPECT_FALSE(created.value()["metadata"]["uid"].get<std::string>().empty());

  auto merged =
      client->Patch(svcs + "/echo", {{"metadata", {{"labels", {{"tier", "edge"}}}}}}, PatchType::Merge);
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_EQ(merged.value()["metadata"]["labels"]["tier"], "edge");

  auto strategic =
      client->Patch(svcs + "/echo", {{"metadata", {{"labels", {{"tier", nullptr}, {"app", "echo"}}}}}},
                    PatchType::StrategicMerge);
  ASSERT_TRUE(strategic) << strategic.error();
  EXPECT_EQ(strategic.value()["metadata"]["labels"], (nlohmann::json{{"app", "echo"}}));

  auto jp = client->Patch(
      svcs + "/echo",
      nlohmann::json::array({{{"op", "replace"}, {"path", "/spec/ports/0/port"}, {"value", 81}}}),
      PatchType::Json);
  ASSERT_TRUE(jp) << jp.error();
  EXPECT_EQ(jp.value()["spec"]["ports"][0]["port"], 81);

  auto applied = client->Patch(svcs + "/applied?fieldManager=keel",
                               testing::MakeService("default", "applied", 90), PatchType::Apply);
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_EQ(applied.value()["spec"]["ports"][0]["port"], 90);

  auto got = client->Get(svcs + "/echo");
  ASSERT_TRUE(got);
  got.value()["spec"]["ports"][0]["port"] = 82;
  auto put = client->Put(svcs + "/echo", got.value());
  ASSERT_TRUE(put) << put.error();
  EXPECT_GT(std::stoll(put.value()["metadata"]["resourceVersion"].get<std::string>()),
            std::stoll(got.value()["metadata"]["resourceVersion"].get<std::string>()));

  auto del = client->Delete(svcs + "/echo");
  ASSERT_TRUE(del) << del.error();
  EXPECT_EQ(del.value()["status"], "Success");
  EXPECT_FALSE(client->Get(svcs + "/echo"));
}

TEST(ApiClientTest, CancelledAndRefusedRequestsAreErrors) {
  auto server = Start({});
  ASSERT_TRUE(server);
  auto client = Client(server->Config());
  Canceller cancel;
  cancel.Cancel();
  auto r = client->Request(Method::Get, "/version", nullptr, "application/json", &cancel);
  EXPECT_FALSE(r);
  server->Kill();
  auto refused = client->Request(Method::Get, "/version");
  EXPECT_FALSE(refused);
}

}  // namespace
}  // namespace keel::k8s
