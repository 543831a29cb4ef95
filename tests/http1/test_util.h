// Helpers for the HTTP/1 parser tests: one-line parse calls, readable result
// printing, and the "every split point" oracle.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>

#include "dataplane/http1/parser.h"

namespace keel::http1 {

inline std::ostream& operator<<(std::ostream& os, ParseStatus s) {
  static constexpr const char* kNames[] = {"NeedMore", "Done", "Error", "H2Preface"};
  return os << kNames[static_cast<int>(s)];
}

inline std::ostream& operator<<(std::ostream& os, const ParseResult& r) {
  return os << r.status << "(consumed=" << r.consumed << " http_status=" << r.http_status << " reason=\""
            << r.reason << "\")";
}

inline bool operator==(const ParseResult& a, const ParseResult& b) {
  return a.status == b.status && a.consumed == b.consumed && a.http_status == b.http_status &&
         a.reason == b.reason;
}

// Parses `prefix` first, then the whole input, as a connection would: with one hint
// and a buffer that is reallocated in between (the views must survive the move).
template <typename ParseFn>
ParseResult ParseInTwoReads(std::string_view whole, size_t split, ParseFn parse) {
  ParseHint hint;
  std::string buf(whole.substr(0, split));
  ParseResult r = parse(std::string_view(buf), &hint);
  if (r.status != ParseStatus::NeedMore) return r;
  buf.assign(whole);
  buf.shrink_to_fit();
  return parse(std::string_view(buf), &hint);
}

}  // namespace keel::http1
