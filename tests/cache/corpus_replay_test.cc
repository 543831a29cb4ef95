// Replays the cache fuzz corpora and every saved crash through the fuzz driver's checks
// (tests/fuzz/cache_driver.h), so a fixed crash stays fixed without running the fuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/cache_driver.h"

namespace keel::cache {
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

TEST(CacheCorpusReplay, FieldValueCorpus) {
  const auto files = FilesIn(KEEL_CACHE_FUZZ_DIR "/corpus/cache_fields");
  EXPECT_GE(files.size(), 10u);
  for (const auto& f : files) EXPECT_EQ(fuzz::CheckFieldValue(Read(f)), "") << f;
}

TEST(CacheCorpusReplay, PolicyCorpus) {
  const auto files = FilesIn(KEEL_CACHE_FUZZ_DIR "/corpus/cache_policy");
  EXPECT_GE(files.size(), 5u);
  for (const auto& f : files) EXPECT_EQ(fuzz::CheckPolicy(Read(f)), "") << f;
}

// A crash file does not say which target found it: both checks replay it.
TEST(CacheCorpusReplay, SavedCrashes) {
  for (const auto& f : FilesIn(KEEL_CACHE_FUZZ_DIR "/crashes/cache")) {
    const std::string data = Read(f);
    EXPECT_EQ(fuzz::CheckFieldValue(data), "") << f;
    EXPECT_EQ(fuzz::CheckPolicy(data), "") << f;
  }
}

}  // namespace
}  // namespace keel::cache
