// UpstreamConn reads and the pool's intrusive idle lists, against a loopback server:
// a small response stays in one 16 KiB read block (it used to grow to 32 KiB on every
// response), large responses arrive whole across reads, data before EOF is delivered
// first, and idle connections come back most-recent-first and unlink from anywhere.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "dataplane/event/loop.h"
#include "dataplane/net/socket.h"
#include "dataplane/net/transport.h"
#include "dataplane/proxy/upstream_pool.h"

namespace keel::proxy {
namespace {

class Peer {
 public:
  Peer() {
    fd_ = *net::Listen(*net::ParseHostPort("127.0.0.1:0"), false);
    addr_ = *net::LocalAddress(fd_);
  }
  ~Peer() {
    for (int c : accepted_) ::close(c);
    ::close(fd_);
  }
  int Accept() {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) accepted_.push_back(c);
    return c;
  }
  void Send(int c, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(c, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      ASSERT_GT(n, 0);
      off += static_cast<size_t>(n);
    }
  }
  const net::Address& addr() const { return addr_; }

 private:
  int fd_;
  net::Address addr_;
  std::vector<int> accepted_;
};

// Collects what the connection reads; stops the loop once `want` bytes or a close came.
struct Reader : UpstreamListener {
  event::EventLoop* loop = nullptr;
  std::string got;
  size_t want = 0;
  size_t max_capacity = 0;
  int closed = 0;
  bool closed_eof = false;
  size_t got_at_close = 0;
  void OnUpstreamConnected(UpstreamConn*) override { loop->Stop(); }
  void OnUpstreamReadable(UpstreamConn* c) override {
    max_capacity = std::max(max_capacity, c->in().capacity());
    got.append(c->in().view());
    c->in().Consume(c->in().size());
    if (want && got.size() >= want) loop->Stop();
  }
  void OnUpstreamDrained(UpstreamConn*) override {}
  void OnUpstreamClosed(UpstreamConn*, bool eof, bool, const char*) override {
    ++closed;
    closed_eof = eof;
    got_at_close = got.size();
    loop->Stop();
  }
};

void RunFor(event::EventLoop& loop, uint32_t ms) {
  event::Timer guard([&] { loop.Stop(); });
  loop.Arm(&guard, ms);
  loop.Run();
  loop.Disarm(&guard);
}

UpstreamConn* Connect(UpstreamPool& pool, event::EventLoop& loop, Peer& peer, Reader* r,
                      const std::string& key = "k") {
  auto c = pool.Acquire(peer.addr().storage, peer.addr().len, key, 1000, r);
  if (!c.ok()) return nullptr;
  RunFor(loop, 2000);
  return *c;
}

std::string Body(size_t n) {
  std::string s(n, 'x');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

TEST(UpstreamRead, SmallResponsesStayInOneReadBlock) {
  event::EventLoop loop;
  Peer peer;
  UpstreamPool pool(&loop, 4, 60000);
  Reader r;
  r.loop = &loop;
  UpstreamConn* c = Connect(pool, loop, peer, &r);
  ASSERT_NE(c, nullptr);
  int s = peer.Accept();
  ASSERT_GE(s, 0);
  for (int i = 0; i < 3; ++i) {  // a keep-alive connection, three responses
    r.got.clear();
    r.want = 300;
    c->SetListener(&r);
    peer.Send(s, Body(300));
    RunFor(loop, 2000);
    EXPECT_EQ(r.got, Body(300));
    EXPECT_EQ(r.max_capacity, net::kMinReadBuffer);
    pool.Release(c);
    EXPECT_EQ(c->in().capacity(), 0u);  // idle connections hold no buffer
    auto again = pool.Acquire(peer.addr().storage, peer.addr().len, "k", 1000, &r);
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(*again, c);
  }
  EXPECT_EQ(r.closed, 0);
  pool.Close(c);
  RunFor(loop, 10);
}

TEST(UpstreamRead, LargeResponseArrivesWhole) {
  event::EventLoop loop;
  Peer peer;
  UpstreamPool pool(&loop, 4, 60000);
  Reader r;
  r.loop = &loop;
  UpstreamConn* c = Connect(pool, loop, peer, &r);
  ASSERT_NE(c, nullptr);
  int s = peer.Accept();
  const std::string big = Body(300 * 1024);  // more than the 256 KiB read cap per event
  r.want = big.size();
  peer.Send(s, big);
  RunFor(loop, 5000);
  EXPECT_EQ(r.got.size(), big.size());
  EXPECT_TRUE(r.got == big);
  pool.Close(c);
  RunFor(loop, 10);
}

TEST(UpstreamRead, DataBeforeEofIsDeliveredFirst) {
  event::EventLoop loop;
  Peer peer;
  UpstreamPool pool(&loop, 4, 60000);
  Reader r;
  r.loop = &loop;
  UpstreamConn* c = Connect(pool, loop, peer, &r);
  ASSERT_NE(c, nullptr);
  int s = peer.Accept();
  peer.Send(s, "last words");
  ::shutdown(s, SHUT_WR);
  for (int i = 0; i < 10 && !r.closed; ++i) RunFor(loop, 500);
  EXPECT_EQ(r.closed, 1);
  EXPECT_TRUE(r.closed_eof);
  EXPECT_EQ(r.got_at_close, 10u);
  EXPECT_EQ(r.got, "last words");
  RunFor(loop, 10);
}

TEST(UpstreamRead, IdleListIsMostRecentFirstAndUnlinksFromTheMiddle) {
  event::EventLoop loop;
  Peer peer;
  UpstreamPool pool(&loop, 8, 60000);
  Reader r;
  r.loop = &loop;
  std::vector<UpstreamConn*> conns;
  std::vector<int> accepted;
  for (int i = 0; i < 3; ++i) {
    conns.push_back(Connect(pool, loop, peer, &r));
    ASSERT_NE(conns.back(), nullptr);
    accepted.push_back(peer.Accept());  // accepted in connect order: one at a time
    ASSERT_GE(accepted.back(), 0);
  }
  for (auto* c : conns) pool.Release(c);
  EXPECT_EQ(pool.idle_count(), 3u);
  ::shutdown(accepted[1], SHUT_RDWR);  // the peer drops the middle one
  RunFor(loop, 200);
  EXPECT_EQ(pool.idle_count(), 2u);
  EXPECT_EQ(pool.stats().idle_closed, 1u);
  auto a = pool.Acquire(peer.addr().storage, peer.addr().len, "k", 1000, &r);
  auto b = pool.Acquire(peer.addr().storage, peer.addr().len, "k", 1000, &r);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, conns[2]);
  EXPECT_EQ(*b, conns[0]);
  EXPECT_EQ(pool.idle_count(), 0u);
  pool.Release(*a);  // the emptied list takes connections again
  EXPECT_EQ(pool.idle_count(), 1u);
  pool.Close(*a);
  pool.Close(*b);
  RunFor(loop, 10);
}

TEST(UpstreamRead, CloseIdleExceptKeepsOnlyKeptEndpoints) {
  event::EventLoop loop;
  Peer peer;
  UpstreamPool pool(&loop, 8, 60000);
  Reader r;
  r.loop = &loop;
  UpstreamConn* plain = Connect(pool, loop, peer, &r, "10.0.0.1:80");
  UpstreamConn* gone = Connect(pool, loop, peer, &r, "10.0.0.2:80");
  UpstreamConn* gone2 = Connect(pool, loop, peer, &r, "10.0.0.2:80");
  ASSERT_TRUE(plain && gone && gone2);
  pool.Release(plain);
  pool.Release(gone);
  pool.Release(gone2);
  EXPECT_EQ(pool.idle_count(), 3u);
  pool.CloseIdleExcept([](const std::string& ep) { return ep == "10.0.0.1:80"; });
  EXPECT_EQ(pool.idle_count(), 1u);
  auto kept = pool.Acquire(peer.addr().storage, peer.addr().len, "10.0.0.1:80", 1000, &r);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, plain);
  pool.Close(*kept);
  RunFor(loop, 10);
}

}  // namespace
}  // namespace keel::proxy
