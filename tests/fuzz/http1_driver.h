// The checks behind the HTTP/1 fuzz targets, shared with the corpus-replay unit test:
// each drives the parser over an input and returns "" when every invariant held,
// else a description of the first broken one.
#pragma once

#include <string>
#include <string_view>

namespace keel::http1::fuzz {

// The input is a client byte stream: heads, bodies, pipelined requests. Checks that
// every view lies in the input, that feeding the bytes one at a time (with and without
// a ParseHint) gives exactly the whole-buffer answer, and that chunked bodies decode
// the same whole and byte by byte. Runs with the default Limits and with tight ones.
std::string CheckRequestStream(std::string_view data);

// The first byte picks the request method ('H' = HEAD, else GET); the rest is an
// upstream byte stream of responses (1xx heads included).
std::string CheckResponseStream(std::string_view data);

}  // namespace keel::http1::fuzz
