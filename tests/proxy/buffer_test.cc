// net::Buffer and its per-thread BlockCache: byte-queue semantics (views, compaction,
// growth), and the allocation behaviour the keep-alive path relies on — storage given
// back by Shrink() is taken again without the heap, within a bounded cache.
#include "dataplane/net/buffer.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "dataplane/net/block_cache.h"
#include "dataplane/net/transport.h"

namespace keel::net {
namespace {

class BufferTest : public ::testing::Test {
 protected:
  void SetUp() override { BlockCache::Trim(); }
  void TearDown() override { BlockCache::Trim(); }
};

std::string Pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i % 23);
  return s;
}

TEST_F(BufferTest, AppendConsumeAndView) {
  Buffer b;
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.capacity(), 0u);  // nothing allocated until needed
  b.Append("");
  EXPECT_EQ(b.capacity(), 0u);
  b.Append("hello ");
  b.Append("world");
  EXPECT_EQ(b.view(), "hello world");
  b.Consume(6);
  EXPECT_EQ(b.view(), "world");
  EXPECT_EQ(b.size(), 5u);
  b.Consume(5);
  EXPECT_TRUE(b.empty());
}

TEST_F(BufferTest, PrepareCommitGivesAtLeastTheRoomAsked) {
  Buffer b;
  char* p = b.Prepare(kMinReadBuffer);
  EXPECT_GE(b.capacity(), kMinReadBuffer);
  std::memcpy(p, "abc", 3);
  b.Commit(3);
  EXPECT_EQ(b.view(), "abc");
}

TEST_F(BufferTest, CompactsInPlaceWhenThatMakesRoom) {
  Buffer b;
  b.Append(Pattern(4000, 'a'));
  size_t cap = b.capacity();
  b.Consume(3900);
  std::string rest(b.view());
  b.Append(Pattern(1000, 'k'));  // fits only after moving the 100 live bytes forward
  EXPECT_EQ(b.capacity(), cap);
  EXPECT_EQ(b.view(), rest + Pattern(1000, 'k'));
}

TEST_F(BufferTest, GrowsByDoublingAndKeepsLiveBytes) {
  Buffer b;
  std::string want;
  for (int i = 0; i < 40; ++i) {
    std::string piece = Pattern(1500 + i, static_cast<char>('a' + i % 20));
    b.Append(piece);
    want += piece;
    if (i % 7 == 0) {
      b.Consume(700);
      want.erase(0, 700);
    }
  }
  EXPECT_EQ(b.view(), want);
  EXPECT_TRUE(b.capacity() >= b.size() && b.capacity() < 2 * (b.size() + 4096));
}

TEST_F(BufferTest, ShrinkKeepsUnreadBytes) {
  Buffer b;
  b.Append("pending");
  b.Shrink();
  EXPECT_EQ(b.view(), "pending");
  b.Consume(7);
  b.Shrink();
  EXPECT_EQ(b.capacity(), 0u);
}

// The keep-alive cycle: a connection's buffers are given back between requests and
// the next request on any connection of the thread takes them from the cache.
TEST_F(BufferTest, ShrunkStorageIsReusedWithoutTheHeap) {
  auto before = BlockCache::ThreadStats();
  for (int request = 0; request < 100; ++request) {
    Buffer in, out;
    char* p = in.Prepare(kMinReadBuffer);
    std::memcpy(p, "GET / HTTP/1.1\r\n\r\n", 18);
    in.Commit(18);
    out.Append("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    in.Consume(in.size());
    out.Consume(out.size());
    in.Shrink();
    out.Shrink();
  }
  auto after = BlockCache::ThreadStats();
  EXPECT_EQ(after.allocated - before.allocated, 2u);  // one 16 KiB, one 4 KiB block, ever
  EXPECT_EQ(after.reused - before.reused, 198u);
}

TEST_F(BufferTest, CacheIsBoundedPerSizeClass) {
  {
    std::vector<Buffer> many(400);
    for (auto& b : many) b.Prepare(kMinReadBuffer);
  }  // all 400 given back at once
  EXPECT_LE(BlockCache::ThreadStats().cached_bytes, BlockCache::kClassBudget);
  EXPECT_GT(BlockCache::ThreadStats().cached_bytes, 0u);
}

TEST_F(BufferTest, LargeBlocksBypassTheCache) {
  {
    Buffer b;
    b.Prepare(BlockCache::kMaxCachedBlock + 1);
    EXPECT_GE(b.capacity(), BlockCache::kMaxCachedBlock + 1);
  }
  EXPECT_EQ(BlockCache::ThreadStats().cached_bytes, 0u);
}

TEST_F(BufferTest, MoveTransfersStorage) {
  Buffer a;
  a.Append("abc");
  Buffer b(std::move(a));
  EXPECT_EQ(b.view(), "abc");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented moved-from state
  EXPECT_EQ(a.capacity(), 0u);
  Buffer c;
  c.Append("x");
  c = std::move(b);
  EXPECT_EQ(c.view(), "abc");
}

// Each worker thread has its own lists: nothing given back on one thread is handed
// out on another, and a thread's blocks are freed when it ends (LSan checks that).
TEST_F(BufferTest, CachesArePerThread) {
  std::thread t([] {
    Buffer b;
    b.Prepare(kMinReadBuffer);
    b.Shrink();
    EXPECT_EQ(BlockCache::ThreadStats().cached_bytes, kMinReadBuffer);
  });
  t.join();
  EXPECT_EQ(BlockCache::ThreadStats().cached_bytes, 0u);
}

}  // namespace
}  // namespace keel::net
