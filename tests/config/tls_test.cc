// The config stream over mutual TLS: the controller side as production runs it
// (SslServerCredentials, client certificate required), with dataplane stand-ins
// dialing through gRPC's OpenSSL credentials via ClientOptions::channel_factory.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "controller/serve/config_server.h"
#include "dataplane/config/config_client.h"
#include "tests/config/fixtures.h"
#include "tests/config/test_certs.h"

namespace keel {
namespace {

using testing::MakeSnapshot;
using testing::Pem;
using testing::Recorder;
using testing::Shared;
using testing::WaitFor;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = testing::MakeCa("keel-test-ca");
    serve::ServerOptions options = testing::Listen("127.0.0.1:0");
    Pem server_leaf = testing::MakeLeaf(ca_, "keel-controller");
    options.tls = serve::TlsOptions{server_leaf.cert, server_leaf.key, ca_.cert, true};
    Status status = server_.Start(options);
    ASSERT_TRUE(status.ok()) << status.error();
    server_.Publish(Shared(MakeSnapshot("v1")));
  }

  // A client whose channel trusts `trust` and presents `identity` (if any).
  std::unique_ptr<dataplane::config::ConfigClient> NewClient(Recorder* rec, const Pem& trust,
                                                             const Pem* identity) {
    dataplane::config::ClientOptions options;
    options.controller_address = "127.0.0.1:" + std::to_string(server_.port());
    options.node_id = "dp-tls";
    options.backoff_initial = std::chrono::milliseconds(20);
    options.backoff_max = std::chrono::milliseconds(100);
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = trust.cert;
    if (identity) {
      ssl.pem_private_key = identity->key;
      ssl.pem_cert_chain = identity->cert;
    }
    std::string address = options.controller_address;
    options.channel_factory = [ssl, address] {
      grpc::ChannelArguments args;
      dataplane::config::ConfigClient::SetChannelArguments(&args);
      return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
    };
    auto client = std::make_unique<dataplane::config::ConfigClient>(options, rec->Fn());
    client->Start();
    return client;
  }

  // The client never gets a stream: 10+ attempts (20–100 ms backoff) in 500 ms.
  static bool NeverConnects(const dataplane::config::ConfigClient& client) {
    return !WaitFor([&] { return client.connections() > 0; }, std::chrono::milliseconds(500));
  }

  Pem ca_;
  serve::ConfigServer server_;
};

TEST_F(TlsTest, ClientWithCertificateFromTrustedCaGetsSnapshot) {
  Pem leaf = testing::MakeLeaf(ca_, "dp-tls");
  Recorder rec;
  auto client = NewClient(&rec, ca_, &leaf);
  ASSERT_TRUE(WaitFor([&] { return client->version() == "v1" && server_.Stats().acks == 1; }));
  EXPECT_EQ(server_.Dataplanes().at(0).acked_version, "v1");
}

TEST_F(TlsTest, ClientWithoutCertificateIsRefused) {
  Recorder rec;
  auto client = NewClient(&rec, ca_, nullptr);
  EXPECT_TRUE(NeverConnects(*client));
  EXPECT_TRUE(server_.Dataplanes().empty());
  EXPECT_FALSE(client->has_snapshot());
}

TEST_F(TlsTest, ClientCertificateFromAnotherCaIsRefused) {
  Pem rogue_ca = testing::MakeCa("rogue-ca");
  Pem rogue_leaf = testing::MakeLeaf(rogue_ca, "dp-rogue");
  Recorder rec;
  auto client = NewClient(&rec, ca_, &rogue_leaf);
  EXPECT_TRUE(NeverConnects(*client));
  EXPECT_TRUE(server_.Dataplanes().empty());
}

TEST_F(TlsTest, TlsOptionsFromFilesReportsMissingFile) {
  auto tls =
      serve::TlsOptions::FromFiles("/nonexistent/cert.pem", "/nonexistent/key.pem", "/nonexistent/ca.pem");
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.error().find("/nonexistent/cert.pem"), std::string::npos);
}

}  // namespace
}  // namespace keel
