// Buffer: a contiguous byte queue with a read cursor, for socket I/O. Reads append
// at the end, consumers take from the front; compaction happens only when the free
// tail is too small, so parsing can hand out string_views into stable memory until
// the next Consume()/Prepare().
//
// Storage comes from a per-thread cache of power-of-two blocks (block_cache.h), is
// never zero-filled, and grows by doubling. Measured (bench/harness/perrequest.py) on
// HTTP/1 keep-alive: the former std::vector<char> spent ~50k instructions per request
// zero-filling and copying 16 KiB blocks that Shrink() had just freed.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

#include "dataplane/net/block_cache.h"

namespace keel::net {

class Buffer {
 public:
  Buffer() = default;
  ~Buffer() { Release(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept : data_(o.data_), cap_(o.cap_), begin_(o.begin_), end_(o.end_) {
    o.data_ = nullptr;
    o.cap_ = o.begin_ = o.end_ = 0;
  }
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      Release();
      data_ = o.data_, cap_ = o.cap_, begin_ = o.begin_, end_ = o.end_;
      o.data_ = nullptr;
      o.cap_ = o.begin_ = o.end_ = 0;
    }
    return *this;
  }

  std::string_view view() const { return {data_ + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void Clear() { begin_ = end_ = 0; }

  // Room for at least `n` more bytes at the end; returns where to write.
  char* Prepare(size_t n) {
    if (cap_ - end_ < n) Make(n);
    return data_ + end_;
  }
  void Commit(size_t n) { end_ += n; }

  void Append(std::string_view s) {
    if (s.empty()) return;  // no storage for nothing
    std::memcpy(Prepare(s.size()), s.data(), s.size());
    Commit(s.size());
  }
  // Gives the storage of an empty buffer back (10k idle connections must stay cheap).
  // It goes to this thread's block cache, so the next request on any connection of the
  // worker takes it back without malloc.
  void Shrink() {
    if (empty()) Release();
  }
  size_t capacity() const { return cap_; }

 private:
  // Compacts (live bytes to the front) when that frees enough room, else moves the
  // live bytes into a block of at least twice the size.
  void Make(size_t n) {
    size_t live = end_ - begin_;
    if (begin_ > 0 && cap_ - live >= n) {
      std::memmove(data_, data_ + begin_, live);
    } else {
      size_t want = live + n;
      if (want < 2 * cap_) want = 2 * cap_;
      size_t cap = 0;
      char* fresh = BlockCache::Take(want, &cap);
      if (live) std::memcpy(fresh, data_ + begin_, live);
      Release();
      data_ = fresh;
      cap_ = cap;
    }
    begin_ = 0;
    end_ = live;
  }
  void Release() {
    if (data_) BlockCache::Give(data_, cap_);
    data_ = nullptr;
    cap_ = begin_ = end_ = 0;
  }

  char* data_ = nullptr;
  size_t cap_ = 0;
  size_t begin_ = 0, end_ = 0;
};

}  // namespace keel::net
