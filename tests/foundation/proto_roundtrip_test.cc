// The v1 contract survives binary and JSON round trips with every message kind filled,
// so neither side can drift from the generated code unnoticed.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "keel/config/v1/config.pb.h"

namespace cfg = keel::config::v1;
using google::protobuf::util::MessageDifferencer;

namespace {

cfg::Snapshot FullSnapshot() {
  cfg::Snapshot s;
  s.set_version("9f2c4d1e00aa7b31");
  s.set_built_at_unix_ms(1795420800123);
  s.set_default_certificate("default/wildcard-tls");
  s.mutable_global()->set_ssl_redirect(true);
  s.mutable_global()->set_max_request_body_bytes(1 << 20);

  auto* vh = s.add_virtual_hosts();
  vh->set_name("demo.example.test");
  vh->set_certificate("wire/demo-tls");
  vh->add_sources("wire/web");
  auto* r = vh->add_routes();
  r->mutable_match()->set_path_kind(cfg::RouteMatch::PREFIX);
  r->mutable_match()->set_path("/api");
  auto* hm = r->mutable_match()->add_headers();
  hm->set_name("x-canary");
  hm->set_exact("always");
  auto* fwd = r->mutable_forward();
  auto* wc = fwd->add_clusters();
  wc->set_cluster("wire/echo:80");
  wc->set_weight(90);
  wc = fwd->add_clusters();
  wc->set_cluster("wire/echo-canary:80");
  wc->set_weight(10);
  fwd->set_prefix_rewrite("/");
  r->mutable_policy()->set_timeout_ms(5000);
  r->mutable_policy()->mutable_retry()->set_num_retries(2);
  r->mutable_policy()->mutable_retry()->add_on_statuses(503);
  r->mutable_policy()->mutable_cache()->set_enabled(true);
  r->mutable_policy()->mutable_cache()->set_grace_s(300);
  r->mutable_policy()->add_allow_cidrs("10.0.0.0/8");
  r->mutable_policy()->mutable_cors()->set_enabled(true);
  r->mutable_policy()->mutable_rate_limit()->set_requests_per_second(100);
  r->mutable_source()->set_namespace_("wire");
  r->mutable_source()->set_ingress("web");
  r->mutable_source()->set_service("echo:80");

  auto* redirect = vh->add_routes();
  redirect->mutable_match()->set_path_kind(cfg::RouteMatch::EXACT);
  redirect->mutable_match()->set_path("/old");
  redirect->mutable_redirect()->set_status(308);
  redirect->mutable_redirect()->set_path("/new");

  auto* direct = s.add_default_routes();
  direct->mutable_match()->set_path_kind(cfg::RouteMatch::REGEX);
  direct->mutable_match()->set_path("/v[0-9]+/.*");
  direct->mutable_direct_response()->set_status(503);
  direct->mutable_direct_response()->set_body("no endpoints");

  auto* c = s.add_clusters();
  c->set_name("wire/echo:80");
  c->mutable_lb()->set_kind(cfg::LbPolicy::RING_HASH);
  c->mutable_lb()->mutable_hash_on()->set_header("x-user");
  c->mutable_lb()->mutable_sticky()->set_name("route");
  c->mutable_timeouts()->set_connect_ms(1000);
  c->mutable_health()->set_consecutive_failures(5);
  c->set_protocol(cfg::H2C);
  auto* ep = c->add_endpoints();
  ep->set_address("10.244.0.7");
  ep->set_port(8080);
  ep->set_weight(1);
  ep->set_zone("zone-a");
  ep->set_ready(true);
  ep->set_serving(true);
  ep->set_target("echo-7d9f");
  ep = c->add_endpoints();
  ep->set_address("fd00::8");
  ep->set_port(8080);
  ep->set_serving(true);
  ep->set_terminating(true);

  auto* cert = s.add_certificates();
  cert->set_name("wire/demo-tls");
  cert->set_cert_chain_pem("-----BEGIN CERTIFICATE-----\n...\n");
  cert->set_private_key_pem(std::string("\x00\x01key", 5));
  cert->add_dns_names("demo.example.test");
  cert->set_not_after_unix_s(1826956800);
  return s;
}

TEST(ProtoRoundTrip, SnapshotSurvivesBinary) {
  const cfg::Snapshot in = FullSnapshot();
  std::string bytes;
  ASSERT_TRUE(in.SerializeToString(&bytes));
  cfg::Snapshot out;
  ASSERT_TRUE(out.ParseFromString(bytes));
  EXPECT_TRUE(MessageDifferencer::Equals(in, out)) << out.DebugString();
  EXPECT_EQ(out.clusters(0).endpoints(1).address(), "fd00::8");
  EXPECT_EQ(out.certificates(0).private_key_pem().size(), 5u);
}

TEST(ProtoRoundTrip, SnapshotSurvivesJson) {
  const cfg::Snapshot in = FullSnapshot();
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(in, &json).ok());
  cfg::Snapshot out;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &out).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(in, out));
}

TEST(ProtoRoundTrip, DeterministicSerializationIsStable) {
  // Versions are hashes of deterministic bytes: the same message must give the same bytes.
  auto serialize = [](const cfg::Snapshot& s) {
    std::string out;
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    s.SerializeToCodedStream(&coded);
    coded.Trim();
    return out;
  };
  EXPECT_EQ(serialize(FullSnapshot()), serialize(FullSnapshot()));
}

TEST(ProtoRoundTrip, StreamEnvelopes) {
  cfg::DataplaneMessage hello;
  hello.mutable_hello()->set_node_id("dp-0");
  hello.mutable_hello()->set_held_version("abc");
  hello.mutable_hello()->set_contract_revision(1);
  cfg::DataplaneMessage nack;
  nack.mutable_nack()->set_version("def");
  nack.mutable_nack()->set_reason("unknown cluster");
  nack.mutable_nack()->set_serving_version("abc");
  cfg::ControllerMessage delta;
  auto* d = delta.mutable_update()->mutable_endpoint_delta();
  d->set_base_version("abc");
  d->set_version("def");
  auto* ce = d->add_clusters();
  ce->set_cluster("wire/echo:80");
  ce->add_endpoints()->set_address("10.0.0.1");

  for (const google::protobuf::Message* m : std::initializer_list<const google::protobuf::Message*>{&hello, &nack, &delta}) {
    std::string bytes;
    ASSERT_TRUE(m->SerializeToString(&bytes));
    std::unique_ptr<google::protobuf::Message> back(m->New());
    ASSERT_TRUE(back->ParseFromString(bytes));
    EXPECT_TRUE(MessageDifferencer::Equals(*m, *back));
  }
  cfg::DataplaneMessage parsed;
  ASSERT_TRUE(parsed.ParseFromString(nack.SerializeAsString()));
  EXPECT_EQ(parsed.kind_case(), cfg::DataplaneMessage::kNack);
  EXPECT_EQ(parsed.nack().reason(), "unknown cluster");
}

}  // namespace
