// Request header collection and checks (RFC 9113 §8.2–8.3), response field lists,
// and the HTTP2-Settings decoder.
#include "dataplane/http2/fields.h"

#include <algorithm>
#include <charconv>

#include "dataplane/http1/fields.h"

namespace keel::h2 {
namespace {

bool IEquals(std::string_view a, std::string_view b) { return http1::EqualsIgnoreCase(a, b); }

// RFC 9113 §8.2.2: these make a message malformed in HTTP/2.
bool ConnectionSpecific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade";
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') return false;  // RFC 9113 §8.2.1
    if (!http1::internal::kTchar[http1::internal::U8(c)]) return false;
  }
  return true;
}

bool ParseLength(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

void RequestHeaders::Reset(size_t max_list_bytes, size_t max_fields) {
  arena_.clear();
  fields_.clear();
  cookies_.clear();
  method_ = scheme_ = authority_ = path_ = std::nullopt;
  list_bytes_ = 0;
  max_list_bytes_ = max_list_bytes;
  // One slot of the inline array stays free for the joined cookie field.
  max_fields_ = std::min(max_fields, http1::kMaxHeaders - 1);
  too_large_ = malformed_ = regular_seen_ = false;
}

RequestHeaders::Ref RequestHeaders::Store(std::string_view name, std::string_view value) {
  Ref r{static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(name.size()),
        static_cast<uint32_t>(value.size())};
  arena_.append(name);
  arena_.append(value);
  return r;
}

void RequestHeaders::AddPseudo(std::string_view name, std::string_view value) {
  std::optional<Ref>* slot = nullptr;
  if (name == ":method")
    slot = &method_;
  else if (name == ":scheme")
    slot = &scheme_;
  else if (name == ":authority")
    slot = &authority_;
  else if (name == ":path")
    slot = &path_;
  // Unknown pseudo-headers (":protocol" included: no extended CONNECT here), repeats,
  // and pseudo-headers after regular fields are all malformed (RFC 9113 §8.3).
  if (slot == nullptr || slot->has_value() || regular_seen_) {
    malformed_ = true;
    return;
  }
  *slot = Store(name, value);
}

void RequestHeaders::Add(std::string_view name, std::string_view value) {
  list_bytes_ += name.size() + value.size() + 32;
  if (list_bytes_ > max_list_bytes_ && !too_large_) {
    too_large_ = true;
    arena_.clear();
    fields_.clear();
    cookies_.clear();
  }
  if (too_large_ || malformed_) return;
  if (!name.empty() && name.front() == ':') {
    AddPseudo(name, value);
    return;
  }
  regular_seen_ = true;
  if (!ValidName(name) || ConnectionSpecific(name) || (name == "te" && !IEquals(value, "trailers"))) {
    malformed_ = true;
    return;
  }
  if (name == "cookie") {
    cookies_.push_back(Store(name, value));
    return;
  }
  if (fields_.size() >= max_fields_) {
    too_large_ = true;
    return;
  }
  fields_.push_back(Store(name, value));
}

void RequestHeaders::AddHttp1(const http1::RequestHead& head) {
  Add(":method", head.method);
  Add(":scheme", "http");
  Add(":authority", head.host);
  if (head.absolute_form) {
    std::string path(head.path);
    if (!head.query.empty()) path.append("?").append(head.query);
    Add(":path", path);
  } else {
    Add(":path", head.target);
  }
  http1::ConnectionTokens tokens;
  tokens.AddAll(head.fields());
  std::string name;
  for (const auto& h : head.fields()) {
    if (http1::ShouldDropOnForward(h.name, tokens) || IEquals(h.name, "host") ||
        IEquals(h.name, "http2-settings")) {
      continue;
    }
    name.assign(h.name);
    for (char& c : name) c = static_cast<char>(http1::internal::kLower[http1::internal::U8(c)]);
    Add(name, h.value);
  }
}

HeadVerdict RequestHeaders::Finish(bool end_stream, http1::RequestHead* out) {
  if (too_large_) return HeadVerdict::kTooLarge;
  if (malformed_ || !method_) return HeadVerdict::kMalformed;
  if (Value(*method_) == "CONNECT") return HeadVerdict::kConnect;
  if (!scheme_ || !path_ || Value(*path_).empty()) return HeadVerdict::kMalformed;

  if (!cookies_.empty()) {
    // RFC 9113 §8.2.3: crumbs are joined with "; " before going to HTTP/1.1.
    std::string joined;
    for (const Ref& r : cookies_) {
      if (!joined.empty()) joined.append("; ");
      joined.append(Value(r));
    }
    cookies_.assign(1, Store("cookie", joined));
  }

  // Every view below is taken after the last Store: the arena no longer moves.
  // Content-Length and Host are the fields whose duplicates could frame or route a
  // request differently upstream; settle them here.
  std::optional<std::string_view> host, length;
  for (const Ref& r : fields_) {
    std::string_view n = Name(r);
    if (n == "host") {
      if (host) return HeadVerdict::kMalformed;
      host = Value(r);
    } else if (n == "content-length") {
      if (length && *length != Value(r)) return HeadVerdict::kMalformed;
      length = Value(r);
    }
  }
  uint64_t content_length = 0;
  if (length && !ParseLength(*length, &content_length)) return HeadVerdict::kMalformed;
  // RFC 9113 §8.3.1: a Host that names another authority than :authority is malformed.
  if (authority_ && host && !IEquals(Value(*authority_), *host)) return HeadVerdict::kMalformed;
  if (!authority_ && !host) return HeadVerdict::kMalformed;

  std::string_view method = Value(*method_), target = Value(*path_);
  if (target.front() != '/' && !(method == "OPTIONS" && target == "*")) return HeadVerdict::kMalformed;
  out->method = method;
  out->target = target;
  size_t q = target.find('?');
  out->path = target.substr(0, q);
  out->query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  out->host = authority_ ? Value(*authority_) : *host;
  out->minor_version = 1;
  out->absolute_form = false;
  out->num_headers = 0;
  bool expect_continue = false;
  for (const Ref& r : fields_) {
    out->headers[out->num_headers++] = {Name(r), Value(r)};
    if (Name(r) == "expect" && IEquals(Value(r), "100-continue")) expect_continue = true;
  }
  for (const Ref& r : cookies_) out->headers[out->num_headers++] = {Name(r), Value(r)};
  if (end_stream) {
    out->body = http1::BodyKind::None;
  } else if (length) {
    out->body = http1::BodyKind::ContentLength;
  } else {
    out->body = http1::BodyKind::Chunked;  // length unknown: DATA frames until END_STREAM
  }
  out->content_length = content_length;
  out->keep_alive = true;
  out->expect_continue = expect_continue && !end_stream;
  out->upgrade = false;
  out->upgrade_protocol = {};
  out->h2c_upgrade = false;
  return HeadVerdict::kOk;
}

void RequestHeaders::Release() {
  std::string().swap(arena_);
  std::vector<Ref>().swap(fields_);
  std::vector<Ref>().swap(cookies_);
}

void FieldList::Add(std::string_view name, std::string_view value) {
  Ref r{static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(name.size()),
        static_cast<uint32_t>(value.size())};
  for (char c : name) arena_.push_back(static_cast<char>(http1::internal::kLower[http1::internal::U8(c)]));
  arena_.append(value);
  refs_.push_back(r);
}

void FieldList::Clear() {
  arena_.clear();
  refs_.clear();
}

FieldList::Field FieldList::at(size_t i) const {
  const Ref& r = refs_[i];
  return {{arena_.data() + r.off, r.name_len}, {arena_.data() + r.off + r.name_len, r.value_len}};
}

std::optional<std::string_view> FieldList::Find(std::string_view name) const {
  for (size_t i = 0; i < refs_.size(); ++i) {
    if (at(i).name == name) return at(i).value;
  }
  return std::nullopt;
}

void AppendResponseFields(const http1::ResponseHead& head, bool head_request, FieldList* out) {
  http1::ConnectionTokens tokens;
  tokens.AddAll(head.fields());
  std::optional<std::string_view> upstream_length;
  for (const auto& h : head.fields()) {
    if (IEquals(h.name, "content-length")) {
      upstream_length = h.value;
      continue;
    }
    if (http1::ShouldDropOnForward(h.name, tokens)) continue;
    out->Add(h.name, h.value);
  }
  if (head.body == http1::BodyKind::ContentLength) {
    out->Add("content-length", std::to_string(head.content_length));
  } else if (head_request && upstream_length && head.status != 204 && head.status != 304) {
    out->Add("content-length", *upstream_length);
  }
}

std::optional<std::string> DecodeSettingsHeader(std::string_view value) {
  while (!value.empty() && value.back() == '=') value.remove_suffix(1);
  if (value.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(value.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : value) {
    int v = Base64UrlValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (out.size() % 6 != 0) return std::nullopt;  // RFC 9113 §6.5.1: 6 bytes per setting
  return out;
}

}  // namespace keel::h2
