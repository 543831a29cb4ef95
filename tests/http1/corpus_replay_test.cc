// Replays the committed fuzz corpus and every saved crash through the fuzz driver's
// checks, so a fixed crash stays fixed without running the fuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/http1_driver.h"

namespace keel::http1 {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> FilesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename() != ".gitkeep") files.push_back(e.path());
  }
  return files;
}

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CorpusReplay, RequestCorpus) {
  const auto files = FilesIn(KEEL_HTTP1_FUZZ_DIR "/corpus/http1");
  EXPECT_GE(files.size(), 20u);
  for (const auto& f : files) EXPECT_EQ(fuzz::CheckRequestStream(Read(f)), "") << f;
}

TEST(CorpusReplay, ResponseCorpus) {
  const auto files = FilesIn(KEEL_HTTP1_FUZZ_DIR "/corpus/http1_response");
  EXPECT_GE(files.size(), 10u);
  for (const auto& f : files) EXPECT_EQ(fuzz::CheckResponseStream(Read(f)), "") << f;
}

// Crash inputs are replayed through both drivers: a file does not say which found it.
TEST(CorpusReplay, SavedCrashes) {
  for (const auto& f : FilesIn(KEEL_HTTP1_FUZZ_DIR "/crashes/http1")) {
    const std::string data = Read(f);
    EXPECT_EQ(fuzz::CheckRequestStream(data), "") << f;
    EXPECT_EQ(fuzz::CheckResponseStream(data), "") << f;
  }
}

}  // namespace
}  // namespace keel::http1
