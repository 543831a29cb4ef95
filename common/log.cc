#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace keel::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};

const char* Name(Level l) {
  switch (l) {
    case Level::Debug: return "DEBUG";
    case Level::Info: return "INFO ";
    case Level::Warn: return "WARN ";
    case Level::Error: return "ERROR";
  }
  return "?";
}
}  // namespace

void SetLevel(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }
bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

bool ParseLevel(std::string_view text, Level* out) {
  if (text == "debug") *out = Level::Debug;
  else if (text == "info") *out = Level::Info;
  else if (text == "warn") *out = Level::Warn;
  else if (text == "error") *out = Level::Error;
  else return false;
  return true;
}

Line::Line(Level level, std::string_view component) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  char msbuf[8];
  std::snprintf(msbuf, sizeof msbuf, ".%03dZ", static_cast<int>(ms));
  out_ << ts << msbuf << ' ' << Name(level) << " [" << component << "] ";
}

Line::~Line() {
  out_ << '\n';
  const std::string s = out_.str();
  // A failed log write has nowhere to be reported; ignore it.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, s.data(), s.size());
}

}  // namespace keel::log
