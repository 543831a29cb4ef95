// The access log writer: lines from many threads arrive whole; a stalled reader makes
// the workers drop and count lines instead of blocking; sampling takes its share.
#include "dataplane/observe/access_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace keel::observe {
namespace {

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(AccessLog, LinesFromManyThreadsArriveWhole) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::string collected;
  std::thread reader([&] { collected = ReadAll(p[0]); });
  {
    AccessLog log;
    log.Start({LogFormat::kJson, 1.0, p[1], 4096, 1});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 2000; ++i) {
          std::string line = "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}\n";
          // A 4 KiB ring fills faster than the writer's 1 ms pass: retry until it fits.
          while (!log.Append(line)) std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
      });
    }
    for (auto& th : threads) th.join();
    log.Stop();
  }
  ::close(p[1]);
  reader.join();
  ::close(p[0]);
  std::set<std::string> lines;
  size_t start = 0;
  while (start < collected.size()) {
    size_t nl = collected.find('\n', start);
    ASSERT_NE(nl, std::string::npos);
    lines.insert(collected.substr(start, nl - start));
    start = nl + 1;
  }
  EXPECT_EQ(lines.size(), 8000u);
  EXPECT_TRUE(lines.count("{\"t\":3,\"i\":1999}"));
}

TEST(AccessLog, StalledOutputDropsAndCountsInsteadOfBlocking) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::fcntl(p[1], F_SETPIPE_SZ, 4096), 4096);
  AccessLog log;
  log.Start({LogFormat::kJson, 1.0, p[1], 4096, 1});
  std::string line(100, 'x');
  line.back() = '\n';
  auto started = std::chrono::steady_clock::now();
  int ok = 0;
  for (int i = 0; i < 2000; ++i) ok += log.Append(line) ? 1 : 0;
  auto took = std::chrono::steady_clock::now() - started;
  // Nobody reads the pipe: 4 KiB pipe + 4 KiB ring hold ~80 lines, the rest drop.
  EXPECT_LT(took, std::chrono::milliseconds(500));
  EXPECT_GT(log.dropped(), 1500u);
  EXPECT_EQ(static_cast<uint64_t>(ok) + log.dropped(), 2000u);
  // A reader appears: the writer drains what the ring kept, and Stop returns.
  std::thread reader([&] { ReadAll(p[0]); });
  log.Stop();
  ::close(p[1]);
  reader.join();
  ::close(p[0]);
}

TEST(AccessLog, SamplingTakesItsShare) {
  AccessLog log;
  int devnull = ::open("/dev/null", O_WRONLY);
  log.Start({LogFormat::kJson, 0.25, devnull, 4096, 20});
  int sampled = 0;
  for (int i = 0; i < 40000; ++i) sampled += log.Sampled() ? 1 : 0;
  EXPECT_NEAR(sampled, 10000, 800);
  log.Stop();
  log.Start({LogFormat::kJson, 0.0, devnull, 4096, 20});
  sampled = 0;
  for (int i = 0; i < 1000; ++i) sampled += log.Sampled() ? 1 : 0;
  EXPECT_EQ(sampled, 0);
  log.Stop();
  ::close(devnull);
}

TEST(AccessLog, OffAppendsNothing) {
  AccessLog log;
  EXPECT_EQ(log.format(), LogFormat::kOff);
  EXPECT_FALSE(log.Append("x\n"));
}

}  // namespace
}  // namespace keel::observe
