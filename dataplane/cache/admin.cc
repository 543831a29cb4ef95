#include "dataplane/cache/admin.h"

#include "dataplane/cache/fields.h"

namespace keel::cache {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Decode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out->push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      int a = Hex(in[i + 1]), b = Hex(in[i + 2]);
      if (a < 0 || b < 0) return false;
      out->push_back(static_cast<char>(a * 16 + b));
      i += 2;
    } else {
      out->push_back(in[i]);
    }
  }
  return true;
}

// "http://Host/p" → "http://host/p": keys hold the host in lower case.
std::string NormalizeUrl(const std::string& url) {
  auto s = url.find("://");
  if (s == std::string::npos) return url;
  auto e = url.find('/', s + 3);
  if (e == std::string::npos) return Lower(url.substr(0, s)) + "://" + Lower(url.substr(s + 3)) + "/";
  return Lower(url.substr(0, s)) + "://" + Lower(url.substr(s + 3, e - s - 3)) + url.substr(e);
}

}  // namespace

AdminAnswer HandlePurge(Store& store, const std::string& method, const std::string& path_and_query) {
  if (method != "POST" && method != "PURGE") return {405, "use POST or PURGE\n"};
  auto q = path_and_query.find('?');
  if (q == std::string::npos) return {400, "want one of url=, host=, prefix=\n"};
  std::string_view query(path_and_query);
  query.remove_prefix(q + 1);
  auto eq = query.find('=');
  if (eq == std::string_view::npos || query.find('&') != std::string_view::npos) {
    return {400, "want exactly one of url=, host=, prefix=\n"};
  }
  std::string_view name = query.substr(0, eq);
  std::string value;
  if (!Decode(query.substr(eq + 1), &value) || value.empty())
    return {400, "bad percent-encoding or empty value\n"};
  size_t n = 0;
  if (name == "url") {
    if (value.find("://") == std::string::npos) return {400, "url must be absolute: http://host/path\n"};
    n = store.Invalidate(NormalizeUrl(value));
  } else if (name == "host") {
    n = store.PurgeHost(Lower(value));
  } else if (name == "prefix") {
    if (value.find("://") == std::string::npos) return {400, "prefix must start with scheme://host\n"};
    n = store.PurgePrefix(NormalizeUrl(value));
  } else {
    return {400, "want one of url=, host=, prefix=\n"};
  }
  return {200, "{\"purged\":" + std::to_string(n) + "}\n"};
}

std::string StatsJson(Store& store) {
  auto& s = store.stats();
  auto f = [](const char* k, uint64_t v, bool last = false) {
    return std::string("\"") + k + "\":" + std::to_string(v) + (last ? "" : ",");
  };
  return "{" + f("hits", s.hits) + f("misses", s.misses) + f("stale", s.stale) + f("bypass", s.bypass) +
         f("inserts", s.inserts) + f("evictions", s.evictions) + f("purged", s.purged) +
         f("coalesced", s.coalesced) + f("not_stored", s.not_stored) + f("objects", s.objects) +
         f("bytes", s.bytes) + f("capacity", store.capacity(), true) + "}\n";
}

}  // namespace keel::cache
