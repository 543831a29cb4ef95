// The checks behind the cache fuzz targets, shared with the corpus-replay unit test in
// tests/cache: each runs the cache's header parsers and rules over an input and returns
// "" when every invariant held, else a description of the first broken one.
#pragma once

#include <string>
#include <string_view>

namespace keel::cache::fuzz {

// The input as one field value: SplitList (elements trimmed, non-empty, inside the
// input), ParseCacheControl (delta-seconds within [0, 2^31], field names lower-case),
// ParseHttpDate (a parsed date of years 0..9999 formats and parses back to itself).
std::string CheckFieldValue(std::string_view data);

// Byte 0 picks the status, 1 the clock offset, 2 the grace, 3 the method, 4 the body
// length; the rest is response fields, a blank line, then request fields ("name:
// value" lines). Runs the storing, freshness (Age, Date, Expires, Last-Modified),
// Vary, Pragma, serving, stale, 304-freshening, conditional and Range rules.
std::string CheckPolicy(std::string_view data);

}  // namespace keel::cache::fuzz
