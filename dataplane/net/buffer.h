// Buffer: a contiguous byte queue with a read cursor, for socket I/O. Reads append
// at the end, consumers take from the front; compaction happens only when the free
// tail is too small, so parsing can hand out string_views into stable memory until
// the next Consume()/Prepare().
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace keel::net {

class Buffer {
 public:
  std::string_view view() const { return {data_.data() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void Clear() { begin_ = end_ = 0; }

  // Room for at least `n` more bytes at the end; returns where to write.
  char* Prepare(size_t n) {
    if (data_.size() - end_ < n) {
      if (begin_ > 0) {
        std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (data_.size() - end_ < n) data_.resize(end_ + n);
    }
    return data_.data() + end_;
  }
  void Commit(size_t n) { end_ += n; }

  void Append(std::string_view s) {
    std::memcpy(Prepare(s.size()), s.data(), s.size());
    Commit(s.size());
  }
  // Releases memory of an idle connection's buffer (10k idle connections must stay cheap).
  void Shrink() {
    if (empty()) {
      std::vector<char>().swap(data_);
      begin_ = end_ = 0;
    }
  }
  size_t capacity() const { return data_.size(); }

 private:
  std::vector<char> data_;
  size_t begin_ = 0, end_ = 0;
};

}  // namespace keel::net
