// The snapshot hash (see version.h for why a 128-bit non-cryptographic hash is enough).
#include "controller/translate/version.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace keel::translate {
namespace {

constexpr uint64_t kMulA = 0x9e3779b97f4a7c15ull;  // 2^64 / golden ratio
constexpr uint64_t kMulB = 0xc2b2ae3d27d4eb4full;
constexpr uint64_t kMulC = 0x165667b19e3779f9ull;

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// splitmix64's finalizer: full avalanche on 64 bits.
inline uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline uint64_t Load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // host order: the hash is only compared within one architecture family
}

}  // namespace

// The hash state, fed 8-byte words; the total length is mixed in up front so that a
// stream of digests can be hashed without first concatenating it.
class Hasher {
 public:
  explicit Hasher(size_t total_len)
      : a_(0x243f6a8885a308d3ull ^ (total_len * kMulA)), b_(0x13198a2e03707344ull ^ (total_len * kMulC)) {}
  void Word(uint64_t w) {
    a_ = Rotl(a_ ^ (w * kMulA), 29) * kMulB;
    b_ = Rotl(b_ + (w ^ kMulC), 37) * kMulA + a_;
  }
  Digest Finish(uint64_t tail) {
    Word(tail);
    Digest d;
    d.hi = Mix(a_ ^ Rotl(b_, 17));
    d.lo = Mix(b_ + d.hi);
    return d;
  }

 private:
  uint64_t a_, b_;
};

Digest Hash128(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  Hasher h(n);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) h.Word(Load64(p + i));
  uint64_t tail = 0;
  for (size_t k = 0; i + k < n; ++k) tail |= uint64_t{p[i + k]} << (8 * k);
  return h.Finish(tail);
}

std::string DigestHex(const Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = kHex[(d.hi >> (4 * i)) & 0xf];
    out[31 - i] = kHex[(d.lo >> (4 * i)) & 0xf];
  }
  return out;
}

namespace {

// Sizes once (ByteSizeLong caches sub-message sizes), then writes into `out`; the
// size pass is a third of serialization cost, so it must not run twice.
void SerializeInto(const google::protobuf::Message& message, std::string* out) {
  const size_t size = message.ByteSizeLong();
  out->resize(size);
  google::protobuf::io::ArrayOutputStream raw(out->data(), static_cast<int>(size));
  google::protobuf::io::CodedOutputStream coded(&raw);
  coded.SetSerializationDeterministic(true);
  message.SerializeWithCachedSizes(&coded);
}

}  // namespace

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string out;
  SerializeInto(message, &out);
  return out;
}

std::string VersionFromDigests(const SnapshotDigests& digests, const std::vector<int>& indexes,
                               const std::vector<Digest>& replacements) {
  // Same bytes as hashing rest ‖ cluster_1 ‖ … (two host-order words per digest).
  std::vector<std::pair<int, Digest>> patch;
  for (size_t k = 0; k < indexes.size() && k < replacements.size(); ++k)
    patch.emplace_back(indexes[k], replacements[k]);
  std::sort(patch.begin(), patch.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  Hasher h(16 * (1 + digests.clusters.size()));
  h.Word(digests.rest.hi);
  h.Word(digests.rest.lo);
  size_t next = 0;
  for (size_t i = 0; i < digests.clusters.size(); ++i) {
    const Digest* d = &digests.clusters[i];
    while (next < patch.size() && patch[next].first < static_cast<int>(i)) ++next;
    if (next < patch.size() && patch[next].first == static_cast<int>(i)) d = &patch[next].second;
    h.Word(d->hi);
    h.Word(d->lo);
  }
  return DigestHex(h.Finish(0));
}

SnapshotDigests ComputeVersion(config::v1::Snapshot* snapshot) {
  SnapshotDigests out;
  snapshot->clear_version();
  int64_t built_at = snapshot->built_at_unix_ms();
  snapshot->clear_built_at_unix_ms();
  google::protobuf::RepeatedPtrField<config::v1::Cluster> clusters;
  clusters.Swap(snapshot->mutable_clusters());
  out.rest = Hash128(DeterministicBytes(*snapshot));
  clusters.Swap(snapshot->mutable_clusters());
  out.clusters.reserve(snapshot->clusters_size());
  std::string buf;  // reused: one allocation instead of one per cluster
  for (const config::v1::Cluster& c : snapshot->clusters()) {
    SerializeInto(c, &buf);
    out.clusters.push_back(Hash128(buf));
  }
  snapshot->set_built_at_unix_ms(built_at);
  snapshot->set_version(VersionFromDigests(out));
  return out;
}

}  // namespace keel::translate
