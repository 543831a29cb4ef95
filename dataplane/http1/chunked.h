// Incremental decoder for the chunked transfer coding (RFC 9112 §7.1). Data comes back
// as views of the input (zero-copy); chunk-size lines, extensions, CRLFs and trailers
// are consumed by a byte-level state machine, so the caller never has to keep partial
// control lines around. Strict: hex sizes of at most 16 digits, no whitespace anywhere
// in a chunk line (not even the BWS RFC 9112 tolerates before ';'), CRLF only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/http1/types.h"

namespace keel::http1 {

class ChunkedDecoder {
 public:
  // Bytes of chunk extensions allowed on one chunk-size line; nobody uses extensions,
  // the bound only caps the work an idle-looking line can cost.
  static constexpr size_t kMaxChunkExtBytes = 4096;
  static constexpr int kMaxSizeDigits = 16;  // 16 hex digits fill a uint64_t

  enum class Status {
    Data,      // `data` holds body bytes: forward them, call again with the rest of the input
    NeedMore,  // all of the input was consumed; the body is not finished
    Done,      // the final CRLF was consumed; input after `consumed` is the next message
    Error,     // invalid framing: answer http_status (400, 413, 431) and close the
               // connection; a proxy decoding an upstream response answers 502
  };

  struct Result {
    Status status = Status::NeedMore;
    size_t consumed = 0;  // bytes of the input used, data included
    std::string_view data;
    int http_status = 0;
    std::string_view reason;
  };

  explicit ChunkedDecoder(const Limits& limits = {}) : limits_(limits) {}

  // Decodes from the start of `in`. Returns after at most one data span, so a loop
  // "Feed, forward data, drop consumed bytes" walks any number of chunks. Once Done or
  // Error, further calls repeat that result with nothing consumed.
  Result Feed(std::string_view in);

  // Back to the start of a new body; trailers are dropped.
  void Reset();

  uint64_t body_bytes() const { return total_; }
  // The trailer fields (RFC 9112 §7.1.2), syntax-checked like header fields and bounded
  // by Limits::max_header_bytes / max_headers; valid after Done until Reset. They are
  // copied into the decoder (the only allocation, and only when trailers exist) since
  // they may straddle several inputs. Never merge them into the header section.
  std::span<const Header> trailers() const { return trailers_; }

 private:
  enum class State : uint8_t {
    kSizeStart,
    kSize,
    kExtNameStart,
    kExtName,
    kExtValueStart,
    kExtValueToken,
    kExtQuoted,
    kExtQuotedPair,
    kExtAfterQuote,
    kSizeLf,
    kData,
    kDataCr,
    kDataLf,
    kTrailerStart,
    kTrailerLine,
    kTrailerLf,
    kEndLf,
    kDone,
    kError,
  };

  void SetError(int status, std::string_view reason);
  Result Fail(size_t consumed, int status, std::string_view reason);
  Result ErrorAt(size_t consumed) const {
    Result r = error_;
    r.consumed = consumed;
    return r;
  }
  // Handles one byte of a chunk-size line; false on a fault (recorded by SetError).
  bool SizeLineByte(unsigned char c);
  bool EndTrailerLine();
  void BuildTrailers();

  Limits limits_;
  State state_ = State::kSizeStart;
  int digits_ = 0;
  uint64_t size_ = 0;     // current chunk size, then bytes of it still to come
  uint64_t total_ = 0;    // data bytes so far
  size_t ext_bytes_ = 0;  // extension bytes on the current line
  size_t trailer_line_start_ = 0;
  size_t trailer_count_ = 0;
  std::string trailer_bytes_;  // trailer lines, each ending in '\n'
  std::vector<Header> trailers_;
  Result error_;
};

}  // namespace keel::http1
