#include "dataplane/compress/negotiate.h"

#include <algorithm>
#include <vector>

namespace keel::compress {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return o;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths.
// Malformed weights count as 0: refusing a coding is always safe.
int QValue(std::string_view params) {
  int q = 1000;
  size_t pos = 0;
  while (pos < params.size()) {
    size_t semi = params.find(';', pos);
    auto p = Trim(params.substr(pos, semi == std::string_view::npos ? std::string_view::npos : semi - pos));
    pos = semi == std::string_view::npos ? params.size() : semi + 1;
    if (p.size() < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=') continue;
    auto v = Trim(p.substr(2));
    if (v.empty() || (v[0] != '0' && v[0] != '1')) return 0;
    q = (v[0] - '0') * 1000;
    if (v.size() > 1) {
      if (v[1] != '.' || v.size() > 5) return 0;
      int scale = 100;
      for (size_t i = 2; i < v.size(); ++i, scale /= 10) {
        if (v[i] < '0' || v[i] > '9') return 0;
        q += (v[i] - '0') * scale;
      }
    }
    if (q > 1000) return 0;
  }
  return q;
}

struct Pref {
  std::string coding;
  int q;
};

std::vector<Pref> Parse(std::string_view ae) {
  std::vector<Pref> out;
  size_t pos = 0;
  while (pos <= ae.size()) {
    size_t comma = ae.find(',', pos);
    auto el = Trim(ae.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    pos = comma == std::string_view::npos ? ae.size() + 1 : comma + 1;
    if (el.empty()) continue;
    size_t semi = el.find(';');
    auto name = Trim(el.substr(0, semi));
    int q = semi == std::string_view::npos ? 1000 : QValue(el.substr(semi + 1));
    std::string n = Lower(name);
    if (n == "x-gzip") n = "gzip";
    out.push_back({n, q});
  }
  return out;
}

int QFor(const std::vector<Pref>& prefs, std::string_view coding) {
  int star = -1;
  for (const auto& p : prefs) {
    if (p.coding == coding) return p.q;
    if (p.coding == "*") star = p.q;
  }
  return star < 0 ? 0 : star;
}

}  // namespace

std::string_view CodingName(Coding c) {
  switch (c) {
    case Coding::kGzip:
      return "gzip";
    case Coding::kBrotli:
      return "br";
    case Coding::kIdentity:
      break;
  }
  return "identity";
}

Coding Negotiate(std::string_view accept_encoding) {
  auto prefs = Parse(accept_encoding);
  int br = QFor(prefs, "br"), gz = QFor(prefs, "gzip");
  if (br == 0 && gz == 0) return Coding::kIdentity;
  return br >= gz ? Coding::kBrotli : Coding::kGzip;
}

std::string NormalizeAcceptEncoding(std::string_view accept_encoding) {
  std::vector<std::string> names;
  for (auto& p : Parse(accept_encoding)) {
    if (p.q > 0) names.push_back(p.coding);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out.push_back(',');
    out += n;
  }
  return out;
}

bool CompressibleType(std::string_view content_type) {
  std::string t = Lower(Trim(content_type.substr(0, content_type.find(';'))));
  if (t.rfind("text/", 0) == 0) return true;
  static constexpr std::string_view kTypes[] = {"application/json",
                                                "application/javascript",
                                                "application/x-javascript",
                                                "application/xml",
                                                "application/xhtml+xml",
                                                "application/rss+xml",
                                                "application/atom+xml",
                                                "application/ld+json",
                                                "application/manifest+json",
                                                "application/wasm",
                                                "application/graphql-response+json",
                                                "image/svg+xml",
                                                "image/x-icon",
                                                "font/ttf",
                                                "font/otf",
                                                "application/vnd.ms-fontobject"};
  for (auto k : kTypes) {
    if (t == k) return true;
  }
  // Structured syntax suffixes (RFC 6839): anything +json / +xml.
  return t.size() > 5 && (t.ends_with("+json") || t.ends_with("+xml"));
}

}  // namespace keel::compress
