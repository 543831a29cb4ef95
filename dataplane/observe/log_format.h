// Access log line formats, as pure functions over one finished request (unit-tested
// byte for byte): our JSON line, and ingress-nginx's `upstreaminfo` text format so
// that existing log pipelines keep parsing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace keel::observe {

enum class LogFormat { kOff, kJson, kUpstreamInfo };
// "json", "upstreaminfo", "off"; false on anything else.
bool ParseLogFormat(std::string_view text, LogFormat* out);

struct LogEntry {
  int64_t unix_us = 0;  // when the request head arrived
  std::string_view request_id, client_ip, method, host, path, protocol, user_agent, referer;
  int status = 0;
  uint64_t bytes_in = 0;   // request head and body
  uint64_t bytes_out = 0;  // response head and body
  uint64_t duration_ns = 0;
  std::string_view upstream_address;  // empty: no upstream was tried
  int upstream_status = 0;            // 0: no upstream response
  uint64_t upstream_ns = 0;
  std::string_view namespace_, ingress, service;
  std::string_view cache_status, tls_version;  // empty: not applicable
};

// Appends one line, newline included. Strings are escaped for JSON (bytes ≥ 0x80 as
// \u00XX: client headers are not guaranteed UTF-8, the line must stay valid JSON).
void AppendJson(const LogEntry& e, std::string* out);
// $remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer"
// "$http_user_agent" $request_length $request_time [$proxy_upstream_name] []
// $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id
void AppendUpstreamInfo(const LogEntry& e, std::string* out);

}  // namespace keel::observe
