// The per-worker upstream pool against a real loopback server: reuse of keep-alive
// connections, a peer closing an idle connection, connect failures, idle expiry.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "dataplane/event/loop.h"
#include "dataplane/net/socket.h"
#include "dataplane/proxy/upstream_pool.h"

namespace keel::proxy {
namespace {

// Accepts connections and keeps them until told to close them.
class Server {
 public:
  Server() {
    auto addr = net::ParseHostPort("127.0.0.1:0");
    fd_ = *net::Listen(*addr, false);
    addr_ = *net::LocalAddress(fd_);
  }
  ~Server() {
    CloseAll();
    ::close(fd_);
  }
  // Non-blocking accept of whatever is pending.
  int AcceptPending() {
    int n = 0;
    for (;;) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) break;
      accepted_.push_back(c);
      ++n;
    }
    return n;
  }
  void CloseAll() {
    for (int c : accepted_) ::close(c);
    accepted_.clear();
  }
  const net::Address& addr() const { return addr_; }

 private:
  int fd_;
  net::Address addr_;
  std::vector<int> accepted_;
};

struct Recorder : UpstreamListener {
  int connected = 0, closed = 0;
  bool last_during_connect = false;
  std::string last_why;
  event::EventLoop* loop = nullptr;
  void OnUpstreamConnected(UpstreamConn*) override {
    ++connected;
    loop->Stop();
  }
  void OnUpstreamReadable(UpstreamConn*) override {}
  void OnUpstreamDrained(UpstreamConn*) override {}
  void OnUpstreamClosed(UpstreamConn*, bool, bool during_connect, const char* why) override {
    ++closed;
    last_during_connect = during_connect;
    last_why = why;
    loop->Stop();
  }
};

// Runs the loop until a callback stops it or `ms` pass.
void RunFor(event::EventLoop& loop, uint32_t ms) {
  event::Timer guard([&] { loop.Stop(); });
  loop.Arm(&guard, ms);
  loop.Run();
  loop.Disarm(&guard);
}

TEST(UpstreamPool, ReusesReleasedConnection) {
  event::EventLoop loop;
  Server server;
  UpstreamPool pool(&loop, 4, 60000);
  Recorder rec;
  rec.loop = &loop;
  const auto& a = server.addr();
  auto c1 = pool.Acquire(a.storage, a.len, "k", 1000, &rec);
  ASSERT_TRUE(c1.ok());
  RunFor(loop, 2000);
  ASSERT_EQ(rec.connected, 1);
  EXPECT_FALSE((*c1)->reused());
  pool.Release(*c1);
  EXPECT_EQ(pool.idle_count(), 1u);
  auto c2 = pool.Acquire(a.storage, a.len, "k", 1000, &rec);
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(*c1, *c2);
  EXPECT_TRUE((*c2)->reused());
  EXPECT_EQ(pool.stats().connects, 1u);
  EXPECT_EQ(pool.stats().reuses, 1u);
  pool.Close(*c2);
  RunFor(loop, 10);  // deferred deletion
}

TEST(UpstreamPool, PeerClosingIdleConnectionDropsIt) {
  event::EventLoop loop;
  Server server;
  UpstreamPool pool(&loop, 4, 60000);
  Recorder rec;
  rec.loop = &loop;
  auto c = pool.Acquire(server.addr().storage, server.addr().len, "k", 1000, &rec);
  ASSERT_TRUE(c.ok());
  RunFor(loop, 2000);
  pool.Release(*c);
  ASSERT_EQ(server.AcceptPending(), 1);
  server.CloseAll();
  RunFor(loop, 200);
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_EQ(pool.stats().idle_closed, 1u);
  EXPECT_EQ(rec.closed, 0);  // an idle connection has no listener to tell
}

TEST(UpstreamPool, ConnectRefusedIsReportedAsConnectFailure) {
  event::EventLoop loop;
  net::Address dead;
  {
    Server s;
    dead = s.addr();
  }  // the port is closed now
  UpstreamPool pool(&loop, 4, 60000);
  Recorder rec;
  rec.loop = &loop;
  auto c = pool.Acquire(dead.storage, dead.len, "dead", 1000, &rec);
  if (c.ok()) RunFor(loop, 2000);
  EXPECT_TRUE(!c.ok() || (rec.closed == 1 && rec.last_during_connect));
  EXPECT_EQ(pool.stats().connect_failures, 1u);
}

TEST(UpstreamPool, IdleConnectionsExpire) {
  event::EventLoop loop;
  Server server;
  UpstreamPool pool(&loop, 4, 50);
  Recorder rec;
  rec.loop = &loop;
  auto c = pool.Acquire(server.addr().storage, server.addr().len, "k", 1000, &rec);
  ASSERT_TRUE(c.ok());
  RunFor(loop, 2000);
  pool.Release(*c);
  EXPECT_EQ(pool.idle_count(), 1u);
  RunFor(loop, 300);
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST(UpstreamPool, FullPoolClosesExtraConnections) {
  event::EventLoop loop;
  Server server;
  UpstreamPool pool(&loop, 1, 60000);
  Recorder rec;
  rec.loop = &loop;
  std::vector<UpstreamConn*> conns;
  for (int i = 0; i < 2; ++i) {
    auto c = pool.Acquire(server.addr().storage, server.addr().len, "k", 1000, &rec);
    ASSERT_TRUE(c.ok());
    conns.push_back(*c);
    RunFor(loop, 2000);
  }
  for (auto* c : conns) pool.Release(c);
  EXPECT_EQ(pool.idle_count(), 1u);
  pool.CloseIdleExcept([](const std::string& key) { return key != "k"; });
  EXPECT_EQ(pool.idle_count(), 0u);
  RunFor(loop, 10);
}

}  // namespace
}  // namespace keel::proxy
