// The controller's per-stream state machine without gRPC: what is sent when, full
// vs delta, coalescing while an update is in flight, NACK handling. Plus the
// client's reconnect backoff.
#include "controller/serve/session.h"

#include <gtest/gtest.h>

#include <future>

#include "dataplane/config/backoff.h"
#include "tests/config/fixtures.h"

namespace keel::serve {
namespace {

using testing::MakeSnapshot;
using testing::Shared;
namespace v1 = ::keel::config::v1;

std::shared_ptr<const PublishedSnapshot> Entry(v1::Snapshot s) {
  return std::make_shared<const PublishedSnapshot>(Shared(std::move(s)));
}

v1::Hello HelloHolding(const std::string& version) {
  v1::Hello hello;
  hello.set_node_id("dp-1");
  hello.set_build_version("test");
  hello.set_held_version(version);
  return hello;
}

v1::DataplaneMessage Ack(const std::string& version) {
  v1::DataplaneMessage m;
  m.mutable_ack()->set_version(version);
  return m;
}

v1::DataplaneMessage Nack(const std::string& version, const std::string& serving) {
  v1::DataplaneMessage m;
  m.mutable_nack()->set_version(version);
  m.mutable_nack()->set_reason("nope");
  m.mutable_nack()->set_serving_version(serving);
  return m;
}

// WaitNext on a helper thread, so "nothing is sent" can be asserted: the session is
// closed after a grace period and WaitNext must then return false.
bool SendsNothing(Session* session) {
  auto next = std::async(std::launch::async, [session] {
    Session::Outgoing out;
    return session->WaitNext(&out);
  });
  bool quiet = next.wait_for(std::chrono::milliseconds(50)) == std::future_status::timeout;
  session->Close();
  return quiet && !next.get();
}

class SessionTest : public ::testing::Test {
 protected:
  ServerCounters counters;
  std::shared_ptr<const PublishedSnapshot> v1_ = Entry(MakeSnapshot("v1", 1));
  std::shared_ptr<const PublishedSnapshot> v2_ = Entry(MakeSnapshot("v2", 2));        // endpoints only
  std::shared_ptr<const PublishedSnapshot> v3_ = Entry(MakeSnapshot("v3", 3));        // endpoints only
  std::shared_ptr<const PublishedSnapshot> r4_ = Entry(MakeSnapshot("r4", 1, "/r"));  // routes changed
};

TEST_F(SessionTest, NewStreamGetsFullThenDeltaAfterAck) {
  Session s(HelloHolding(""), "peer", &counters);
  s.Start(v1_);
  Session::Outgoing out;
  ASSERT_TRUE(s.WaitNext(&out));
  EXPECT_TRUE(out.message().update().has_snapshot());
  EXPECT_EQ(s.Info().inflight_version, "v1");
  ASSERT_TRUE(s.OnMessage(Ack("v1")));
  EXPECT_EQ(s.Info().acked_version, "v1");
  s.Offer(v2_);
  ASSERT_TRUE(s.WaitNext(&out));
  ASSERT_TRUE(out.message().update().has_endpoint_delta());
  EXPECT_EQ(out.message().update().endpoint_delta().base_version(), "v1");
  s.Offer(r4_);  // pending while v2 is in flight
  ASSERT_TRUE(s.OnMessage(Ack("v2")));
  ASSERT_TRUE(s.WaitNext(&out));
  EXPECT_TRUE(out.message().update().has_snapshot());
  EXPECT_EQ(counters.pushes_full.load(), 2u);
  EXPECT_EQ(counters.pushes_delta.load(), 1u);
  EXPECT_EQ(counters.acks.load(), 2u);
}

TEST_F(SessionTest, HelloHoldingCurrentGetsNothingThenDeltaOnChange) {
  Session s(HelloHolding("v1"), "peer", &counters);
  s.Start(v1_);
  s.Offer(v1_);  // republish of the same version: still nothing
  EXPECT_TRUE(SendsNothing(&s));

  Session t(HelloHolding("v1"), "peer", &counters);
  t.Start(v1_);
  t.Offer(v2_);
  Session::Outgoing out;
  ASSERT_TRUE(t.WaitNext(&out));
  ASSERT_TRUE(out.message().update().has_endpoint_delta());
  EXPECT_EQ(out.message().update().endpoint_delta().base_version(), "v1");
}

TEST_F(SessionTest, CoalescesWhileAwaitingAck) {
  Session s(HelloHolding(""), "peer", &counters);
  s.Start(v1_);
  Session::Outgoing out;
  ASSERT_TRUE(s.WaitNext(&out));
  s.Offer(v2_);
  s.Offer(v3_);
  ASSERT_TRUE(s.OnMessage(Ack("v1")));
  ASSERT_TRUE(s.WaitNext(&out));
  EXPECT_EQ(out.entry->version(), "v3");  // v2 was superseded before it could be sent
  ASSERT_TRUE(s.OnMessage(Ack("v3")));
  EXPECT_TRUE(SendsNothing(&s));
}

TEST_F(SessionTest, NackedDeltaIsResentInFull) {
  Session s(HelloHolding("v1"), "peer", &counters);
  s.Start(v1_);
  s.Offer(v2_);
  Session::Outgoing out;
  ASSERT_TRUE(s.WaitNext(&out));
  ASSERT_TRUE(out.delta.has_value());
  ASSERT_TRUE(s.OnMessage(Nack("v2", "v0")));
  DataplaneInfo info = s.Info();
  EXPECT_EQ(info.last_nack_version, "v2");
  EXPECT_EQ(info.last_nack_reason, "nope");
  EXPECT_EQ(info.acked_version, "v0");
  ASSERT_TRUE(s.WaitNext(&out));
  EXPECT_EQ(out.entry->version(), "v2");
  EXPECT_TRUE(out.message().update().has_snapshot());
  // Until the full is ACKed, later endpoint changes go in full too.
  s.Offer(v3_);
  ASSERT_TRUE(s.OnMessage(Ack("v2")));
  ASSERT_TRUE(s.WaitNext(&out));
  EXPECT_TRUE(out.delta.has_value()) << "after an ACK, deltas resume";
}

TEST_F(SessionTest, NackedFullIsNotRetried) {
  Session s(HelloHolding(""), "peer", &counters);
  s.Start(v1_);
  Session::Outgoing out;
  ASSERT_TRUE(s.WaitNext(&out));
  ASSERT_TRUE(s.OnMessage(Nack("v1", "")));
  EXPECT_EQ(counters.nacks.load(), 1u);
  EXPECT_TRUE(SendsNothing(&s));
}

TEST_F(SessionTest, StrayAckIsIgnoredAndSecondHelloIsAProtocolError) {
  Session s(HelloHolding(""), "peer", &counters);
  s.Start(v1_);
  Session::Outgoing out;
  ASSERT_TRUE(s.WaitNext(&out));
  ASSERT_TRUE(s.OnMessage(Ack("v9")));
  EXPECT_EQ(s.Info().acked_version, "");
  EXPECT_EQ(s.Info().inflight_version, "v1");
  v1::DataplaneMessage hello;
  *hello.mutable_hello() = HelloHolding("");
  EXPECT_FALSE(s.OnMessage(hello));
}

TEST(Backoff, DoublesWithJitterUpToCapAndResets) {
  using std::chrono::milliseconds;
  dataplane::config::Backoff b(milliseconds(100), milliseconds(10000), /*seed=*/7);
  int64_t nominal = 100;
  for (int i = 0; i < 12; ++i) {
    int64_t got = b.Next().count();
    EXPECT_GE(got, nominal / 2) << i;
    EXPECT_LE(got, nominal) << i;
    nominal = std::min<int64_t>(nominal * 2, 10000);
  }
  b.Reset();
  EXPECT_LE(b.Next().count(), 100);
  // Jitter: two seeds do not produce the same schedule.
  dataplane::config::Backoff c(milliseconds(100), milliseconds(10000), 8),
      d(milliseconds(100), milliseconds(10000), 9);
  bool differ = false;
  for (int i = 0; i < 8; ++i) differ |= c.Next() != d.Next();
  EXPECT_TRUE(differ);
}

}  // namespace
}  // namespace keel::serve
