// Line-oriented logging to stderr: "2026-11-23T10:00:00.123Z INFO  [component] message".
// One write(2) per line, so lines from different threads never interleave.
#pragma once

#include <sstream>
#include <string_view>

namespace keel::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

void SetLevel(Level level);
bool Enabled(Level level);
// Parses "debug", "info", "warn", "error"; false on anything else.
bool ParseLevel(std::string_view text, Level* out);

class Line {
 public:
  Line(Level level, std::string_view component);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;
  template <typename T>
  Line& operator<<(const T& v) {
    out_ << v;
    return *this;
  }

 private:
  std::ostringstream out_;
};

}  // namespace keel::log

#define KEEL_LOG(level, component)                                   \
  if (!::keel::log::Enabled(::keel::log::Level::level)) {            \
  } else                                                             \
    ::keel::log::Line(::keel::log::Level::level, component)
