// FrameTracker: follows frame boundaries (RFC 9113 §4.1) in the bytes a client sends,
// after its 24-byte preface, without decoding anything. nghttp2 does not say whether it
// sits in the middle of a frame or of a header block; the connection needs to know to
// apply the header timeout to a slowloris that trickles one HEADERS frame (or
// CONTINUATIONs) and the body timeout to one that trickles DATA.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace keel::h2 {

class FrameTracker {
 public:
  enum class Where {
    kBoundary,  // between frames, no header block open
    kControl,   // inside the preface, a frame header, a non-DATA frame or a header block
    kData,      // inside a DATA frame's payload
  };

  void Feed(std::string_view data) {
    size_t i = 0;
    while (i < data.size()) {
      if (preface_left_ > 0) {
        size_t n = std::min(preface_left_, data.size() - i);
        preface_left_ -= n;
        i += n;
        continue;
      }
      if (payload_left_ > 0) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(payload_left_, data.size() - i));
        payload_left_ -= n;
        i += n;
        continue;
      }
      header_[header_len_++] = static_cast<uint8_t>(data[i++]);
      if (header_len_ < kHeaderLen) continue;
      header_len_ = 0;
      payload_left_ = (uint32_t{header_[0]} << 16) | (uint32_t{header_[1]} << 8) | header_[2];
      type_ = header_[3];
      uint8_t flags = header_[4];
      if (type_ == kHeaders || type_ == kPushPromise || type_ == kContinuation) {
        in_block_ = (flags & kEndHeaders) == 0;
      }
    }
  }

  Where where() const {
    if (preface_left_ > 0 || header_len_ > 0 || in_block_) return Where::kControl;
    if (payload_left_ > 0) return type_ == kData ? Where::kData : Where::kControl;
    return Where::kBoundary;
  }
  // True until the whole client preface arrived.
  bool in_preface() const { return preface_left_ > 0; }

 private:
  static constexpr size_t kHeaderLen = 9;
  static constexpr uint8_t kData = 0x0, kHeaders = 0x1, kPushPromise = 0x5, kContinuation = 0x9;
  static constexpr uint8_t kEndHeaders = 0x4;

  size_t preface_left_ = 24;  // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
  uint8_t header_[kHeaderLen] = {};
  size_t header_len_ = 0;
  uint64_t payload_left_ = 0;
  uint8_t type_ = 0;
  bool in_block_ = false;
};

}  // namespace keel::h2
