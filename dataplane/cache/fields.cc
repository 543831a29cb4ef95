#include "dataplane/cache/fields.h"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace keel::cache {
namespace {

constexpr int64_t kMaxDelta = int64_t{1} << 31;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view Unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

// delta-seconds = 1*DIGIT; anything else is invalid (nullopt).
std::optional<int64_t> Delta(std::string_view v) {
  v = Unquote(v);  // senders SHOULD NOT quote, recipients may see it (§5.2)
  if (v.empty()) return std::nullopt;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = std::min<int64_t>(n * 10 + (c - '0'), kMaxDelta);
  }
  return n;
}

// A duplicate with a different value, or a malformed one, counts as "stale" (0).
void SetDelta(std::optional<int64_t>* slot, std::string_view v, bool strict) {
  auto d = Delta(v);
  if (!d) {
    *slot = strict ? std::optional<int64_t>(0) : std::nullopt;
    return;
  }
  if (slot->has_value() && **slot != *d) {
    *slot = 0;
    return;
  }
  *slot = d;
}

std::vector<std::string> FieldNames(std::string_view v) {
  std::vector<std::string> out;
  for (auto f : SplitList(Unquote(v))) out.push_back(Lower(f));
  return out;
}

int Month(std::string_view m) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (m == kMonths[i]) return i;
  }
  return -1;
}

// 1*DIGIT only: from_chars alone would take a sign ("-2147483648" as a year overflowed
// `tm_year - 1900`).
bool Num(std::string_view s, int* out) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool Clock(std::string_view s, tm* t) {
  // HH:MM:SS
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return false;
  return Num(s.substr(0, 2), &t->tm_hour) && Num(s.substr(3, 2), &t->tm_min) &&
         Num(s.substr(6, 2), &t->tm_sec) && t->tm_hour < 24 && t->tm_min < 60 && t->tm_sec <= 60;
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> w;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) w.push_back(s.substr(i, j - i));
    i = j;
  }
  return w;
}

}  // namespace

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void Fields::Add(std::string_view name, std::string_view value) { list.emplace_back(Lower(name), value); }

std::optional<std::string_view> Fields::Get(std::string_view name) const {
  for (const auto& [n, v] : list) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::string Fields::GetAll(std::string_view name) const {
  std::string out;
  for (const auto& [n, v] : list) {
    if (n != name) continue;
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

void Fields::Remove(std::string_view name) {
  list.erase(std::remove_if(list.begin(), list.end(), [&](const auto& f) { return f.first == name; }),
             list.end());
}

void Fields::Set(std::string_view name, std::string_view value) {
  Remove(name);
  Add(name, value);
}

size_t Fields::ByteSize() const {
  size_t n = list.capacity() * sizeof(list[0]);
  for (const auto& [a, b] : list) n += a.capacity() + b.capacity();
  return n;
}

std::vector<std::string_view> SplitList(std::string_view value) {
  std::vector<std::string_view> out;
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i <= value.size(); ++i) {
    if (i < value.size()) {
      char c = value[i];
      if (c == '"') quoted = !quoted;
      if (c == '\\' && quoted) {
        ++i;
        continue;
      }
      if (c != ',' || quoted) continue;
    }
    auto el = Trim(value.substr(start, i - start));
    if (!el.empty()) out.push_back(el);
    start = i + 1;
  }
  return out;
}

Directives ParseCacheControl(std::string_view value) {
  Directives d;
  for (auto el : SplitList(value)) {
    std::string_view name = el, arg;
    bool has_arg = false;
    if (auto eq = el.find('='); eq != std::string_view::npos) {
      name = Trim(el.substr(0, eq));
      arg = Trim(el.substr(eq + 1));
      has_arg = true;
    }
    if (IEq(name, "max-age"))
      SetDelta(&d.max_age, arg, true);
    else if (IEq(name, "s-maxage"))
      SetDelta(&d.s_maxage, arg, true);
    else if (IEq(name, "min-fresh"))
      SetDelta(&d.min_fresh, arg, false);
    else if (IEq(name, "stale-while-revalidate"))
      SetDelta(&d.stale_while_revalidate, arg, false);
    else if (IEq(name, "stale-if-error"))
      SetDelta(&d.stale_if_error, arg, false);
    else if (IEq(name, "max-stale")) {
      if (has_arg)
        SetDelta(&d.max_stale, arg, false);
      else
        d.max_stale_any = true;
    } else if (IEq(name, "no-store"))
      d.no_store = true;
    else if (IEq(name, "no-cache")) {
      if (has_arg)
        d.no_cache_fields = FieldNames(arg);
      else
        d.no_cache = true;
    } else if (IEq(name, "private")) {
      if (has_arg)
        d.private_fields = FieldNames(arg);
      else
        d.private_ = true;
    } else if (IEq(name, "public"))
      d.public_ = true;
    else if (IEq(name, "must-revalidate"))
      d.must_revalidate = true;
    else if (IEq(name, "proxy-revalidate"))
      d.proxy_revalidate = true;
    else if (IEq(name, "no-transform"))
      d.no_transform = true;
    else if (IEq(name, "only-if-cached"))
      d.only_if_cached = true;
    else if (IEq(name, "must-understand"))
      d.must_understand = true;
    else if (IEq(name, "immutable"))
      d.immutable = true;
    // Unknown extensions are ignored (§5.2.3).
  }
  return d;
}

std::optional<int64_t> ParseHttpDate(std::string_view s) {
  s = Trim(s);
  tm t{};
  auto w = Words(s);
  if (w.size() == 6 && w[0].size() == 4 && w[0][3] == ',' && w[5] == "GMT") {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    if (w[1].size() != 2 || w[3].size() != 4) return std::nullopt;
    if (!Num(w[1], &t.tm_mday) || (t.tm_mon = Month(w[2])) < 0 || !Num(w[3], &t.tm_year) || !Clock(w[4], &t))
      return std::nullopt;
    t.tm_year -= 1900;
  } else if (w.size() == 4 && !w[0].empty() && w[0].back() == ',' && w[3] == "GMT") {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT. Two-digit years: §5.6.7 says a year
    // more than 50 years in the future is in the past century.
    auto d = w[1];
    if (d.size() != 9 || d[2] != '-' || d[6] != '-') return std::nullopt;
    if (!Num(d.substr(0, 2), &t.tm_mday) || (t.tm_mon = Month(d.substr(3, 3))) < 0 ||
        !Num(d.substr(7, 2), &t.tm_year) || !Clock(w[2], &t))
      return std::nullopt;
    if (t.tm_year < 70) t.tm_year += 100;
  } else if (w.size() == 5) {
    // asctime: Sun Nov  6 08:49:37 1994
    // date3 = month SP ( 2DIGIT / ( SP DIGIT ) ); year = 4DIGIT.
    if (w[2].size() > 2 || w[4].size() != 4) return std::nullopt;
    if ((t.tm_mon = Month(w[1])) < 0 || !Num(w[2], &t.tm_mday) || !Clock(w[3], &t) || !Num(w[4], &t.tm_year))
      return std::nullopt;
    t.tm_year -= 1900;
  } else {
    return std::nullopt;
  }
  if (t.tm_mday < 1 || t.tm_mday > 31) return std::nullopt;
  return static_cast<int64_t>(timegm(&t));
}

std::string FormatHttpDate(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  tm g{};
  gmtime_r(&tt, &g);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &g);
  return std::string(buf, n);
}

}  // namespace keel::cache
