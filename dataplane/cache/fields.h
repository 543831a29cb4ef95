// Owned header fields and the Cache-Control / HTTP-date parsing the cache rules
// need (RFC 9111 §5.2, RFC 9110 §5.6.7). The cache keeps its own copies of request
// and response fields because a stored object outlives the buffers it came from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::cache {

// Field lines with lower-case names, in arrival order.
struct Fields {
  std::vector<std::pair<std::string, std::string>> list;

  void Add(std::string_view name, std::string_view value);
  // First value of `name` (lower-case), if any.
  std::optional<std::string_view> Get(std::string_view name) const;
  // All values of `name` joined by ", " (RFC 9110 §5.3 list combination).
  std::string GetAll(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  void Remove(std::string_view name);
  void Set(std::string_view name, std::string_view value);
  size_t ByteSize() const;
};

std::string Lower(std::string_view s);

// The comma-separated elements of a list-valued field, trimmed, empty ones dropped.
// Commas inside quoted strings do not split. The views point into `value`: never pass
// a temporary (e.g. Fields::GetAll) in a range-for.
std::vector<std::string_view> SplitList(std::string_view value);

// Cache-Control directives of a request or a response (RFC 9111 §5.2). Numbers are
// delta-seconds; a malformed or conflicting duplicate max-age / s-maxage is kept as
// 0 ("treat as stale", §4.2.1), one above 2^31 as 2^31 (§1.2.2).
struct Directives {
  std::optional<int64_t> max_age, s_maxage, min_fresh, max_stale;
  std::optional<int64_t> stale_while_revalidate, stale_if_error;  // RFC 5861
  bool max_stale_any = false;  // "max-stale" without a value: any staleness
  bool no_store = false, no_cache = false, private_ = false, public_ = false;
  bool must_revalidate = false, proxy_revalidate = false, no_transform = false;
  bool only_if_cached = false, must_understand = false, immutable = false;
  // Qualified forms: private="a, b" and no-cache="a": fields only (§5.2.2.4, §5.2.2.7).
  std::vector<std::string> private_fields, no_cache_fields;
};

Directives ParseCacheControl(std::string_view value);

// HTTP-date in any of the three forms RFC 9110 §5.6.7 requires a recipient to accept
// (IMF-fixdate, RFC 850, asctime). Seconds since the epoch, or nullopt if invalid.
std::optional<int64_t> ParseHttpDate(std::string_view s);
// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string FormatHttpDate(int64_t t);

}  // namespace keel::cache
