// Reading a fuzz corpus or crash folder back for the replay tests (tests/*/corpus_replay_test.cc).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace keel::fuzz {

// Regular files of `dir` except the .gitkeep that keeps an empty folder in git.
inline std::vector<std::filesystem::path> CorpusFiles(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename() != ".gitkeep") files.push_back(e.path());
  }
  return files;
}

inline std::string ReadCorpusFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace keel::fuzz
