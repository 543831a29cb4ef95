// Invariants and the incremental-vs-whole oracle for the HTTP/1 parser (see the header).
#include "tests/fuzz/http1_driver.h"

#include <cstdint>
#include <string>

#include "dataplane/http1/parser.h"

namespace keel::http1::fuzz {
namespace {

constexpr int kMaxMessages = 8;

std::string Describe(const ParseResult& r) {
  static constexpr const char* kNames[] = {"NeedMore", "Done", "Error", "H2Preface"};
  return std::string(kNames[static_cast<int>(r.status)]) + "(consumed=" + std::to_string(r.consumed) +
         " status=" + std::to_string(r.http_status) + " reason=" + std::string(r.reason) + ")";
}

bool Same(const ParseResult& a, const ParseResult& b) {
  return a.status == b.status && a.consumed == b.consumed && a.http_status == b.http_status &&
         a.reason == b.reason;
}

bool Within(std::string_view outer, std::string_view v) {
  if (v.empty()) return true;
  auto o = reinterpret_cast<uintptr_t>(outer.data());
  auto p = reinterpret_cast<uintptr_t>(v.data());
  return p >= o && p + v.size() <= o + outer.size();
}

bool CleanValue(std::string_view v) {
  if (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.back() == ' ' || v.back() == '\t'))
    return false;
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return false;
  }
  return true;
}

uint64_t Hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

std::string CheckFields(std::string_view head, std::span<const Header> fields) {
  for (const Header& h : fields) {
    if (!Within(head, h.name) || !Within(head, h.value)) return "field view outside the head";
    if (h.name.empty()) return "empty field name";
    for (char c : h.name) {
      if (c == ':' || c == ' ' || c == '\t' || static_cast<unsigned char>(c) < 0x21)
        return "bad byte in field name";
    }
    if (!CleanValue(h.value)) return "unclean field value";
  }
  return {};
}

bool SameFields(std::span<const Header> a, std::span<const Header> b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].value != b[i].value) return false;
  }
  return true;
}

// Per-message glue so one oracle serves requests and responses.
struct RequestOps {
  using Head = RequestHead;
  ParseResult Parse(std::string_view b, const Limits& l, Head* h, ParseHint* hint) const {
    return ParseRequestHead(b, l, h, hint);
  }
  static bool SameHead(const Head& a, const Head& b) {
    return a.method == b.method && a.target == b.target && a.path == b.path && a.query == b.query &&
           a.host == b.host && a.minor_version == b.minor_version && a.body == b.body &&
           a.content_length == b.content_length && a.keep_alive == b.keep_alive &&
           a.expect_continue == b.expect_continue && a.upgrade == b.upgrade &&
           a.upgrade_protocol == b.upgrade_protocol && a.h2c_upgrade == b.h2c_upgrade &&
           SameFields(a.fields(), b.fields());
  }
  static std::string CheckDone(std::string_view head, const Head& h, const Limits& l) {
    for (std::string_view v : {h.method, h.target, h.query, h.host, h.upgrade_protocol}) {
      if (!Within(head, v)) return "request view outside the head";
    }
    if (!Within(head, h.path) && !(h.absolute_form && h.path == "/")) return "path outside the head";
    if (h.method.empty() || h.target.empty()) return "empty method or target";
    if (h.minor_version != 0 && h.minor_version != 1) return "bad minor version";
    if (h.body == BodyKind::UntilClose) return "request framed until close";
    if (h.body == BodyKind::ContentLength && h.content_length > l.max_body_bytes) return "body over limit";
    if (h.h2c_upgrade && !h.upgrade) return "h2c without upgrade";
    if (h.upgrade && h.minor_version != 1) return "upgrade in HTTP/1.0";
    size_t te = 0, cl = 0;
    for (const Header& f : h.fields()) {
      te += EqualsIgnoreCase(f.name, "transfer-encoding");
      cl += EqualsIgnoreCase(f.name, "content-length");
    }
    if (cl > 1 || (te > 0 && cl > 0)) return "ambiguous framing accepted";
    if ((h.body == BodyKind::Chunked) != (te > 0)) return "chunked framing does not match fields";
    if ((h.body == BodyKind::ContentLength) != (cl > 0)) return "length framing does not match fields";
    ConnectionTokens tokens;
    if (!tokens.AddAll(h.fields())) return "accepted head has an unparsable Connection field";
    return CheckFields(head, h.fields());
  }
  static bool ErrorStatusOk(int s) {
    return s == 400 || s == 405 || s == 413 || s == 414 || s == 417 || s == 431 || s == 501 || s == 505;
  }
};

struct ResponseOps {
  using Head = ResponseHead;
  std::string_view method;
  ParseResult Parse(std::string_view b, const Limits& l, Head* h, ParseHint* hint) const {
    return ParseResponseHead(b, l, method, h, hint);
  }
  static bool SameHead(const Head& a, const Head& b) {
    return a.status == b.status && a.reason == b.reason && a.minor_version == b.minor_version &&
           a.body == b.body && a.content_length == b.content_length && a.keep_alive == b.keep_alive &&
           a.upgrade == b.upgrade && a.upgrade_protocol == b.upgrade_protocol &&
           SameFields(a.fields(), b.fields());
  }
  static std::string CheckDone(std::string_view head, const Head& h, const Limits& l) {
    if (!Within(head, h.reason) || !Within(head, h.upgrade_protocol)) return "response view outside the head";
    if (h.status < 100 || h.status > 599) return "status out of range";
    if (h.informational() && h.body != BodyKind::None) return "1xx with a body";
    if (h.body == BodyKind::UntilClose && h.keep_alive) return "close-delimited body kept alive";
    if (h.body == BodyKind::ContentLength && h.content_length > l.max_body_bytes) return "body over limit";
    return CheckFields(head, h.fields());
  }
  static bool ErrorStatusOk(int s) { return s == 502; }
};

// Decodes `in` whole and byte by byte; both must agree on data, trailers and outcome.
std::string CheckChunked(std::string_view in, const Limits& limits, ChunkedDecoder::Result* out,
                         size_t* used) {
  ChunkedDecoder whole(limits), bytewise(limits);
  std::string data_a, data_b;
  size_t pos_a = 0;
  ChunkedDecoder::Result a;
  while (true) {
    a = whole.Feed(in.substr(pos_a));
    if (!Within(in, a.data)) return "chunk data outside the input";
    data_a.append(a.data);
    if (a.status != ChunkedDecoder::Status::Data) break;
    pos_a += a.consumed;
  }
  pos_a += a.consumed;
  ChunkedDecoder::Result b;
  size_t pos_b = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    std::string_view byte = in.substr(i, 1);
    b = bytewise.Feed(byte);
    data_b.append(b.data);
    if (b.status == ChunkedDecoder::Status::Data && b.consumed != 1)
      return "byte-wise data did not consume its byte";
    if (b.status == ChunkedDecoder::Status::Done || b.status == ChunkedDecoder::Status::Error) {
      pos_b = i + b.consumed;
      break;
    }
    pos_b = i + 1;
  }
  // Input ending inside chunk data leaves the byte-wise run on Data; one more (empty)
  // call gives the NeedMore the whole run ended with.
  if (in.empty() || b.status == ChunkedDecoder::Status::Data) b = bytewise.Feed({});
  if (a.status != b.status || a.http_status != b.http_status || a.reason != b.reason) {
    return "chunked: whole and byte-wise outcomes differ (" + std::string(a.reason) + " / " +
           std::string(b.reason) + ")";
  }
  if (data_a != data_b) return "chunked: whole and byte-wise data differ";
  if (a.status == ChunkedDecoder::Status::Done || a.status == ChunkedDecoder::Status::Error) {
    if (pos_a != pos_b) return "chunked: whole and byte-wise stop at different bytes";
  }
  if (whole.body_bytes() != data_a.size()) return "chunked: body_bytes disagrees with the data";
  if (a.status == ChunkedDecoder::Status::Done && !SameFields(whole.trailers(), bytewise.trailers())) {
    return "chunked: trailers differ";
  }
  *out = a;
  *used = pos_a;
  return {};
}

template <typename Ops>
std::string CheckHead(const Ops& ops, std::string_view buf, const Limits& limits, typename Ops::Head* head,
                      ParseResult* result) {
  const ParseResult whole = ops.Parse(buf, limits, head, nullptr);
  *result = whole;
  switch (whole.status) {
    case ParseStatus::Done:
      if (whole.consumed < 4 || whole.consumed > buf.size() ||
          buf.substr(whole.consumed - 4, 4) != "\r\n\r\n") {
        return "Done without a head ending in CRLFCRLF: " + Describe(whole);
      }
      if (std::string e = Ops::CheckDone(buf.substr(0, whole.consumed), *head, limits); !e.empty()) return e;
      break;
    case ParseStatus::Error:
      if (!Ops::ErrorStatusOk(whole.http_status) || whole.reason.empty())
        return "bad error " + Describe(whole);
      break;
    case ParseStatus::H2Preface:
      if (buf.substr(0, 24) != "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") return "H2Preface without the preface";
      break;
    case ParseStatus::NeedMore:
      break;
  }

  // Oracle 1: one byte at a time into a growing (moving) buffer, with a hint.
  std::string acc;
  typename Ops::Head inc_head;
  ParseHint hint;
  ParseResult inc;
  size_t stop = 0;
  do {
    if (stop < buf.size()) acc.push_back(buf[stop]);
    ++stop;
    inc = ops.Parse(acc, limits, &inc_head, &hint);
  } while (inc.status == ParseStatus::NeedMore && stop < buf.size());
  if (!Same(inc, whole)) return "fed byte by byte: " + Describe(inc) + ", whole: " + Describe(whole);
  if (whole.status == ParseStatus::Done && (stop != whole.consumed || !Ops::SameHead(*head, inc_head))) {
    return "fed byte by byte: a different head";
  }
  // Oracle 2: a prefix parsed from scratch is NeedMore or the whole buffer's answer.
  const size_t k = buf.empty() ? 0 : Hash(buf) % buf.size();
  typename Ops::Head prefix_head;
  ParseResult prefix = ops.Parse(buf.substr(0, k), limits, &prefix_head, nullptr);
  if (prefix.status != ParseStatus::NeedMore && !Same(prefix, whole)) {
    return "prefix " + std::to_string(k) + ": " + Describe(prefix) + ", whole: " + Describe(whole);
  }
  return {};
}

template <typename Ops>
std::string CheckStream(const Ops& ops, std::string_view data, const Limits& limits) {
  for (int m = 0; m < kMaxMessages && !data.empty(); ++m) {
    typename Ops::Head head;
    ParseResult r;
    if (std::string e = CheckHead(ops, data, limits, &head, &r); !e.empty()) return e;
    if (r.status != ParseStatus::Done) return {};
    data.remove_prefix(r.consumed);
    switch (head.body) {
      case BodyKind::None:
        break;
      case BodyKind::ContentLength:
        if (head.content_length > data.size()) return {};
        data.remove_prefix(static_cast<size_t>(head.content_length));
        break;
      case BodyKind::Chunked: {
        ChunkedDecoder::Result cr;
        size_t used = 0;
        if (std::string e = CheckChunked(data, limits, &cr, &used); !e.empty()) return e;
        if (cr.status != ChunkedDecoder::Status::Done) return {};
        data.remove_prefix(used);
        break;
      }
      case BodyKind::UntilClose:
        return {};
    }
  }
  return {};
}

const Limits kTight{64, 256, 4, 1000};

}  // namespace

std::string CheckRequestStream(std::string_view data) {
  RequestOps ops;
  if (std::string e = CheckStream(ops, data, Limits{}); !e.empty()) return "default limits: " + e;
  if (std::string e = CheckStream(ops, data, kTight); !e.empty()) return "tight limits: " + e;
  return {};
}

std::string CheckResponseStream(std::string_view data) {
  if (data.empty()) return {};
  ResponseOps ops{data.front() == 'H' ? "HEAD" : "GET"};
  data.remove_prefix(1);
  if (std::string e = CheckStream(ops, data, Limits{}); !e.empty()) return "default limits: " + e;
  if (std::string e = CheckStream(ops, data, kTight); !e.empty()) return "tight limits: " + e;
  return {};
}

}  // namespace keel::http1::fuzz
