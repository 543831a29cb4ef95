// Replays the committed fuzz corpus and every saved crash through the fuzz driver's
// checks, so a fixed crash stays fixed without running the fuzzer.
#include <gtest/gtest.h>

#include <string>

#include "tests/fuzz/corpus_files.h"
#include "tests/fuzz/http1_driver.h"

namespace keel::http1 {
namespace {

using ::keel::fuzz::CorpusFiles;
using ::keel::fuzz::ReadCorpusFile;

TEST(CorpusReplay, RequestCorpus) {
  const auto files = CorpusFiles(KEEL_HTTP1_FUZZ_DIR "/corpus/http1");
  EXPECT_GE(files.size(), 20u);
  for (const auto& f : files) EXPECT_EQ(fuzz::CheckRequestStream(ReadCorpusFile(f)), "") << f;
}

TEST(CorpusReplay, ResponseCorpus) {
  const auto files = CorpusFiles(KEEL_HTTP1_FUZZ_DIR "/corpus/http1_response");
  EXPECT_GE(files.size(), 10u);
  for (const auto& f : files) EXPECT_EQ(fuzz::CheckResponseStream(ReadCorpusFile(f)), "") << f;
}

// Crash inputs are replayed through both drivers: a file does not say which found it.
TEST(CorpusReplay, SavedCrashes) {
  for (const auto& f : CorpusFiles(KEEL_HTTP1_FUZZ_DIR "/crashes/http1")) {
    const std::string data = ReadCorpusFile(f);
    EXPECT_EQ(fuzz::CheckRequestStream(data), "") << f;
    EXPECT_EQ(fuzz::CheckResponseStream(data), "") << f;
  }
}

}  // namespace
}  // namespace keel::http1
