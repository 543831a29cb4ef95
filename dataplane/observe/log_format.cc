// Access log formats (see log_format.h). No allocation beyond the output string.
#include "dataplane/observe/log_format.h"

#include <time.h>

#include <cstdio>

namespace keel::observe {
namespace {

void AppendEscaped(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

void Field(std::string_view name, std::string_view value, std::string* out) {
  out->append(",\"");
  out->append(name);
  out->append("\":\"");
  AppendEscaped(value, out);
  out->push_back('"');
}

void Number(std::string_view name, uint64_t value, std::string* out) {
  out->append(",\"");
  out->append(name);
  out->append("\":");
  out->append(std::to_string(value));
}

// Seconds with millisecond precision, as nginx prints $request_time.
void Seconds(uint64_t ns, std::string* out) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%llu.%03llu", static_cast<unsigned long long>(ns / 1000000000),
                        static_cast<unsigned long long>(ns / 1000000 % 1000));
  out->append(buf, static_cast<size_t>(n));
}

// Printable without escaping in the quoted text format: nginx escapes " and bytes
// outside printable ASCII as \xHH.
void AppendNginxEscaped(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
      out->append("\\x");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

std::string_view Or(std::string_view v, std::string_view dflt) { return v.empty() ? dflt : v; }

}  // namespace

bool ParseLogFormat(std::string_view text, LogFormat* out) {
  if (text == "json")
    *out = LogFormat::kJson;
  else if (text == "upstreaminfo")
    *out = LogFormat::kUpstreamInfo;
  else if (text == "off")
    *out = LogFormat::kOff;
  else
    return false;
  return true;
}

void AppendJson(const LogEntry& e, std::string* out) {
  time_t secs = static_cast<time_t>(e.unix_us / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char when[96];
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(e.unix_us / 1000 % 1000));
  out->append("{\"time\":\"");
  out->append(when);
  out->push_back('"');
  Field("request_id", e.request_id, out);
  Field("client", e.client_ip, out);
  Field("method", e.method, out);
  Field("host", e.host, out);
  Field("path", e.path, out);
  Field("protocol", e.protocol, out);
  Number("status", static_cast<uint64_t>(e.status), out);
  Number("bytes_in", e.bytes_in, out);
  Number("bytes_out", e.bytes_out, out);
  out->append(",\"duration\":");
  Seconds(e.duration_ns, out);
  if (!e.upstream_address.empty()) {
    Field("upstream", e.upstream_address, out);
    Number("upstream_status", static_cast<uint64_t>(e.upstream_status), out);
    out->append(",\"upstream_time\":");
    Seconds(e.upstream_ns, out);
  }
  Field("namespace", e.namespace_, out);
  Field("ingress", e.ingress, out);
  Field("service", e.service, out);
  if (!e.cache_status.empty()) Field("cache", e.cache_status, out);
  if (!e.tls_version.empty()) Field("tls", e.tls_version, out);
  if (!e.user_agent.empty()) Field("user_agent", e.user_agent, out);
  if (!e.referer.empty()) Field("referer", e.referer, out);
  out->append("}\n");
}

void AppendUpstreamInfo(const LogEntry& e, std::string* out) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t secs = static_cast<time_t>(e.unix_us / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char when[96];
  std::snprintf(when, sizeof when, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday, kMonths[tm.tm_mon % 12],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  out->append(Or(e.client_ip, "-"));
  out->append(" - - [");
  out->append(when);
  out->append("] \"");
  AppendNginxEscaped(e.method, out);
  out->push_back(' ');
  AppendNginxEscaped(e.path, out);
  out->push_back(' ');
  AppendNginxEscaped(e.protocol, out);
  out->append("\" ");
  out->append(std::to_string(e.status));
  out->push_back(' ');
  out->append(std::to_string(e.bytes_out));
  out->append(" \"");
  AppendNginxEscaped(Or(e.referer, "-"), out);
  out->append("\" \"");
  AppendNginxEscaped(Or(e.user_agent, "-"), out);
  out->append("\" ");
  out->append(std::to_string(e.bytes_in));
  out->push_back(' ');
  Seconds(e.duration_ns, out);
  // ingress-nginx's upstream name is namespace-service-port; we have no port here.
  out->append(" [");
  if (!e.service.empty()) {
    out->append(e.namespace_);
    out->push_back('-');
    out->append(e.service);
  }
  out->append("] [] ");
  if (e.upstream_address.empty()) {
    out->append("- - - -");
  } else {
    out->append(e.upstream_address);
    out->append(" - ");
    Seconds(e.upstream_ns, out);
    out->push_back(' ');
    out->append(e.upstream_status ? std::to_string(e.upstream_status) : "-");
  }
  out->push_back(' ');
  out->append(Or(e.request_id, "-"));
  out->push_back('\n');
}

}  // namespace keel::observe
