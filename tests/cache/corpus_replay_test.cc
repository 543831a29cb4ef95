// Replays the cache fuzz corpora and every saved crash through the fuzz driver's checks
// (tests/fuzz/cache_driver.h), so a fixed crash stays fixed without running the fuzzer.
#include <gtest/gtest.h>

#include <string>

#include "tests/fuzz/cache_driver.h"
#include "tests/fuzz/corpus_files.h"

namespace keel::cache {
namespace {

using ::keel::fuzz::CorpusFiles;
using ::keel::fuzz::ReadCorpusFile;

TEST(CacheCorpusReplay, FieldValueCorpus) {
  const auto files = CorpusFiles(KEEL_CACHE_FUZZ_DIR "/corpus/cache_fields");
  EXPECT_GE(files.size(), 10u);
  for (const auto& f : files) EXPECT_EQ(fuzz::CheckFieldValue(ReadCorpusFile(f)), "") << f;
}

TEST(CacheCorpusReplay, PolicyCorpus) {
  const auto files = CorpusFiles(KEEL_CACHE_FUZZ_DIR "/corpus/cache_policy");
  EXPECT_GE(files.size(), 5u);
  for (const auto& f : files) EXPECT_EQ(fuzz::CheckPolicy(ReadCorpusFile(f)), "") << f;
}

// A crash file does not say which target found it: both checks replay it.
TEST(CacheCorpusReplay, SavedCrashes) {
  for (const auto& f : CorpusFiles(KEEL_CACHE_FUZZ_DIR "/crashes/cache")) {
    const std::string data = ReadCorpusFile(f);
    EXPECT_EQ(fuzz::CheckFieldValue(data), "") << f;
    EXPECT_EQ(fuzz::CheckPolicy(data), "") << f;
  }
}

}  // namespace
}  // namespace keel::cache
