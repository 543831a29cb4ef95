// The chunked-coding state machine. Data spans are returned without copying; every
// other byte passes through SizeLineByte or the trailer states exactly once.
#include "dataplane/http1/chunked.h"

#include <algorithm>

#include "dataplane/http1/internal.h"

namespace keel::http1 {

using internal::kTchar;
using internal::U8;

void ChunkedDecoder::Reset() {
  state_ = State::kSizeStart;
  digits_ = 0;
  size_ = total_ = 0;
  ext_bytes_ = 0;
  trailer_line_start_ = trailer_count_ = 0;
  trailer_bytes_.clear();
  trailers_.clear();
  error_ = {};
}

void ChunkedDecoder::SetError(int status, std::string_view reason) {
  state_ = State::kError;
  error_ = {Status::Error, 0, {}, status, reason};
}

ChunkedDecoder::Result ChunkedDecoder::Fail(size_t consumed, int status, std::string_view reason) {
  SetError(status, reason);
  Result r = error_;
  r.consumed = consumed;
  return r;
}

bool ChunkedDecoder::SizeLineByte(unsigned char c) {
  auto fail = [this](int status, std::string_view reason) {
    SetError(status, reason);
    return false;
  };
  auto end_of_size = [this, &fail]() {
    // Checked before any data byte is handed out (413 rather than a truncated body).
    if (size_ > limits_.max_body_bytes - total_) return fail(413, "chunked body larger than allowed");
    return true;
  };
  if (state_ != State::kSizeStart && state_ != State::kSize && c != '\r' &&
      ++ext_bytes_ > kMaxChunkExtBytes) {
    return fail(400, "chunk extension too long");
  }
  switch (state_) {
    case State::kSizeStart:
    case State::kSize: {
      const int v = internal::kHexValue[c];
      if (v >= 0) {
        if (++digits_ > kMaxSizeDigits) return fail(400, "chunk size has too many digits");
        size_ = size_ << 4 | static_cast<uint64_t>(v);
        state_ = State::kSize;
        return true;
      }
      if (state_ == State::kSizeStart) return fail(400, "invalid chunk size");
      if (c == ';') {
        state_ = State::kExtNameStart;
        return end_of_size();
      }
      if (c == '\r') {
        state_ = State::kSizeLf;
        return end_of_size();
      }
      return fail(400, c == '\n' ? "bare LF in chunk line" : "invalid chunk size");
    }
    case State::kExtNameStart:
      if (!kTchar[c]) return fail(400, "invalid chunk extension");
      state_ = State::kExtName;
      return true;
    case State::kExtName:
    case State::kExtValueToken:
      if (kTchar[c]) return true;
      if (c == '=' && state_ == State::kExtName) {
        state_ = State::kExtValueStart;
        return true;
      }
      break;
    case State::kExtValueStart:
      if (c == '"') {
        state_ = State::kExtQuoted;
        return true;
      }
      if (!kTchar[c]) return fail(400, "invalid chunk extension");
      state_ = State::kExtValueToken;
      return true;
    case State::kExtQuoted:
      if (c == '"') {
        state_ = State::kExtAfterQuote;
      } else if (c == '\\') {
        state_ = State::kExtQuotedPair;
      } else if (!internal::kQdtext[c]) {
        return fail(400, "invalid chunk extension");
      }
      return true;
    case State::kExtQuotedPair:
      if (!internal::kQuotedPairByte[c]) return fail(400, "invalid chunk extension");
      state_ = State::kExtQuoted;
      return true;
    case State::kExtAfterQuote:
      break;
    default:
      return fail(400, "invalid chunk extension");
  }
  // After a complete extension: another one, or the end of the line.
  if (c == ';') {
    state_ = State::kExtNameStart;
    return true;
  }
  if (c == '\r') {
    state_ = State::kSizeLf;
    return true;
  }
  return fail(400, "invalid chunk extension");
}

bool ChunkedDecoder::EndTrailerLine() {
  std::string_view line = std::string_view(trailer_bytes_).substr(trailer_line_start_);
  Header h;
  if (internal::Fault f = internal::ParseFieldLine(line, &h)) {
    SetError(f.status, f.reason);
    return false;
  }
  if (++trailer_count_ > std::min(limits_.max_headers, kMaxHeaders)) {
    SetError(431, "too many trailer fields");
    return false;
  }
  trailer_bytes_.push_back('\n');
  trailer_line_start_ = trailer_bytes_.size();
  return true;
}

void ChunkedDecoder::BuildTrailers() {
  trailers_.clear();
  std::string_view rest = trailer_bytes_;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    Header h;
    (void)internal::ParseFieldLine(rest.substr(0, nl), &h);  // validated in EndTrailerLine
    trailers_.push_back(h);
    rest.remove_prefix(nl + 1);
  }
}

ChunkedDecoder::Result ChunkedDecoder::Feed(std::string_view in) {
  if (state_ == State::kError) return error_;
  if (state_ == State::kDone) return {Status::Done, 0, {}, 0, {}};
  size_t i = 0;
  const size_t n = in.size();
  while (i < n) {
    const unsigned char c = U8(in[i]);
    switch (state_) {
      case State::kData: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(size_, n - i));
        size_ -= take;
        total_ += take;
        if (size_ == 0) state_ = State::kDataCr;
        return {Status::Data, i + take, in.substr(i, take), 0, {}};
      }
      case State::kDataCr:
        if (c != '\r') return Fail(i, 400, "chunk data not followed by CRLF");
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return Fail(i, 400, "chunk data not followed by CRLF");
        state_ = State::kSizeStart;
        digits_ = 0;
        size_ = 0;
        ext_bytes_ = 0;
        break;
      case State::kSizeLf:
        if (c != '\n') return Fail(i, 400, "bare CR in chunk line");
        state_ = size_ == 0 ? State::kTrailerStart : State::kData;
        break;
      case State::kTrailerStart:
        if (c == '\r') {
          state_ = State::kEndLf;
          break;
        }
        state_ = State::kTrailerLine;
        [[fallthrough]];
      case State::kTrailerLine: {
        // Copy the run of ordinary line bytes at once; stop on CR or a bad byte.
        size_t j = i;
        while (j < n && internal::kLineByte[U8(in[j])]) ++j;
        const size_t limit = limits_.max_header_bytes;
        if (trailer_bytes_.size() + (j - i) > limit) {
          // Report the first byte over the limit, wherever the reads happened to split.
          return Fail(i + (limit - trailer_bytes_.size()), 431, "trailer section too large");
        }
        trailer_bytes_.append(in.data() + i, j - i);
        i = j;
        if (i == n) return {Status::NeedMore, n, {}, 0, {}};
        const unsigned char d = U8(in[i]);
        if (d != '\r') {
          return Fail(i, 400,
                      d == '\n' ? "bare LF in trailer"
                      : d == 0  ? "NUL byte in trailer"
                                : "control character in trailer");
        }
        state_ = State::kTrailerLf;
        break;
      }
      case State::kTrailerLf:
        if (c != '\n') return Fail(i, 400, "bare CR in trailer");
        if (!EndTrailerLine()) return ErrorAt(i);
        state_ = State::kTrailerStart;
        break;
      case State::kEndLf:
        if (c != '\n') return Fail(i, 400, "bare CR after trailers");
        state_ = State::kDone;
        BuildTrailers();
        return {Status::Done, i + 1, {}, 0, {}};
      default:
        if (!SizeLineByte(c)) return ErrorAt(i);
        break;
    }
    ++i;
  }
  return {Status::NeedMore, n, {}, 0, {}};
}

}  // namespace keel::http1
