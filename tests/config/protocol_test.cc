// Each side against a scripted peer speaking raw ConfigService messages, for the
// paths the real pair never takes on its own: a dataplane that NACKs a delta, and a
// controller that sends a delta on the wrong base, an unknown cluster, an empty update.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "controller/serve/config_server.h"
#include "dataplane/config/config_client.h"
#include "keel/config/v1/config.grpc.pb.h"
#include "tests/config/fixtures.h"

namespace keel {
namespace {

using testing::MakeSnapshot;
using testing::Recorder;
using testing::Shared;
using testing::WaitFor;
namespace v1 = ::keel::config::v1;

TEST(ServerProtocol, NackedDeltaIsFollowedByFullAndConverges) {
  serve::ConfigServer server;
  ASSERT_TRUE(server.Start(testing::Listen("127.0.0.1:0")).ok());
  server.Publish(Shared(MakeSnapshot("v1", 1)));

  auto stub = v1::ConfigService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server.port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto stream = stub->Stream(&context);
  v1::DataplaneMessage out;
  out.mutable_hello()->set_node_id("raw");
  ASSERT_TRUE(stream->Write(out));

  v1::ControllerMessage in;
  ASSERT_TRUE(stream->Read(&in));
  ASSERT_TRUE(in.update().has_snapshot());
  EXPECT_EQ(in.update().snapshot().version(), "v1");
  out.mutable_ack()->set_version("v1");
  ASSERT_TRUE(stream->Write(out));
  ASSERT_TRUE(WaitFor([&] { return server.Dataplanes().at(0).acked_version == "v1"; }));

  server.Publish(Shared(MakeSnapshot("v2", 2)));
  ASSERT_TRUE(stream->Read(&in));
  ASSERT_TRUE(in.update().has_endpoint_delta());
  EXPECT_EQ(in.update().endpoint_delta().base_version(), "v1");
  out.mutable_nack()->set_version("v2");
  out.mutable_nack()->set_reason("base version mismatch");
  out.mutable_nack()->set_serving_version("v1");
  ASSERT_TRUE(stream->Write(out));

  ASSERT_TRUE(stream->Read(&in));
  ASSERT_TRUE(in.update().has_snapshot()) << "a NACKed delta is resent in full";
  EXPECT_EQ(in.update().snapshot().version(), "v2");
  out.mutable_ack()->set_version("v2");
  ASSERT_TRUE(stream->Write(out));
  ASSERT_TRUE(WaitFor([&] { return server.Dataplanes().at(0).acked_version == "v2"; }));
  serve::DataplaneInfo info = server.Dataplanes().at(0);
  EXPECT_EQ(info.nacks, 1u);
  EXPECT_EQ(info.last_nack_reason, "base version mismatch");
  EXPECT_EQ(info.pushes_full, 2u);
  EXPECT_EQ(info.pushes_delta, 1u);

  server.Publish(Shared(MakeSnapshot("v3", 3)));  // deltas resume after the ACK
  ASSERT_TRUE(stream->Read(&in));
  EXPECT_EQ(in.update().endpoint_delta().base_version(), "v2");
  context.TryCancel();
}

TEST(ServerProtocol, StreamWithoutHelloIsRejected) {
  serve::ConfigServer server;
  ASSERT_TRUE(server.Start(testing::Listen("127.0.0.1:0")).ok());
  auto stub = v1::ConfigService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server.port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto stream = stub->Stream(&context);
  v1::DataplaneMessage ack;
  ack.mutable_ack()->set_version("v1");
  ASSERT_TRUE(stream->Write(ack));
  v1::ControllerMessage in;
  EXPECT_FALSE(stream->Read(&in));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(ServerProtocol, BindFailureIsAnError) {
  serve::ConfigServer first, second;
  ASSERT_TRUE(first.Start(testing::Listen("127.0.0.1:0")).ok());
  // gRPC sets SO_REUSEPORT by default; a second server in the same process could
  // share the port, so use an address that cannot be bound at all.
  Status status = second.Start(testing::Listen("192.0.2.1:1"));
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.error().find("cannot listen"), std::string::npos);
}

// A controller that plays a fixed script and records the dataplane's answers.
class ScriptedController final : public v1::ConfigService::Service {
 public:
  grpc::Status Stream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ControllerMessage, v1::DataplaneMessage>* stream) override {
    context->AddInitialMetadata("keel-contract-revision", "1");
    v1::DataplaneMessage in;
    if (!stream->Read(&in)) return grpc::Status::CANCELLED;
    Record(in);
    for (const v1::ControllerMessage& message : Script()) {
      if (!stream->Write(message) || !stream->Read(&in)) return grpc::Status::CANCELLED;
      Record(in);
    }
    while (stream->Read(&in)) {
    }
    return grpc::Status::OK;
  }

  std::vector<v1::DataplaneMessage> replies() {
    std::lock_guard<std::mutex> lock(mu_);
    return replies_;
  }

 private:
  static std::vector<v1::ControllerMessage> Script() {
    std::vector<v1::ControllerMessage> script(5);
    *script[0].mutable_update()->mutable_snapshot() = MakeSnapshot("v1", 1);
    v1::EndpointDelta* wrong_base = script[1].mutable_update()->mutable_endpoint_delta();
    wrong_base->set_base_version("v0");
    wrong_base->set_version("v2");
    v1::EndpointDelta* unknown = script[2].mutable_update()->mutable_endpoint_delta();
    unknown->set_base_version("v1");
    unknown->set_version("v2");
    unknown->add_clusters()->set_cluster("default/gone:1");
    script[3].mutable_update();  // neither snapshot nor delta
    v1::EndpointDelta* good = script[4].mutable_update()->mutable_endpoint_delta();
    good->set_base_version("v1");
    good->set_version("v3");
    *good->add_clusters() = MakeDeltaFor("default/web:80", MakeSnapshot("v3", 6));
    return script;
  }
  static v1::ClusterEndpoints MakeDeltaFor(const std::string& name, const v1::Snapshot& from) {
    v1::ClusterEndpoints ce;
    ce.set_cluster(name);
    for (const v1::Cluster& c : from.clusters()) {
      if (c.name() == name) *ce.mutable_endpoints() = c.endpoints();
    }
    return ce;
  }
  void Record(const v1::DataplaneMessage& m) {
    std::lock_guard<std::mutex> lock(mu_);
    replies_.push_back(m);
  }

  std::mutex mu_;
  std::vector<v1::DataplaneMessage> replies_;
};

TEST(ClientProtocol, RejectsBadDeltasKeepsServingAndConverges) {
  ScriptedController controller;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&controller);
  auto server = builder.BuildAndStart();
  ASSERT_TRUE(server);

  Recorder rec;
  dataplane::config::ClientOptions options;
  options.controller_address = "127.0.0.1:" + std::to_string(port);
  options.node_id = "dp-1";
  options.build_version = "b7";
  dataplane::config::ConfigClient client(options, rec.Fn());
  client.Start();
  ASSERT_TRUE(WaitFor([&] { return controller.replies().size() == 6; }));
  auto r = controller.replies();
  EXPECT_EQ(r[0].hello().node_id(), "dp-1");
  EXPECT_EQ(r[0].hello().build_version(), "b7");
  EXPECT_EQ(r[0].hello().held_version(), "");
  EXPECT_EQ(r[0].hello().contract_revision(), 1u);
  EXPECT_EQ(r[1].ack().version(), "v1");
  ASSERT_TRUE(r[2].has_nack());
  EXPECT_EQ(r[2].nack().version(), "v2");
  EXPECT_NE(r[2].nack().reason().find("base version mismatch"), std::string::npos);
  EXPECT_EQ(r[2].nack().serving_version(), "v1");
  ASSERT_TRUE(r[3].has_nack());
  EXPECT_NE(r[3].nack().reason().find("unknown cluster default/gone:1"), std::string::npos);
  ASSERT_TRUE(r[4].has_nack());
  EXPECT_EQ(r[4].nack().serving_version(), "v1");
  EXPECT_EQ(r[5].ack().version(), "v3");

  v1::Snapshot want = MakeSnapshot("v1", 6);
  want.set_version("v3");
  want.set_built_at_unix_ms(0);  // the scripted delta carries no build time
  EXPECT_TRUE(testing::SameSnapshot(*client.snapshot(), want));
  EXPECT_EQ(client.nack_count(), 3u);
  EXPECT_EQ(rec.applied(), (std::vector<std::string>{"v1", "v3"}));
  client.Stop();
  server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace keel
