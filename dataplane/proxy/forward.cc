#include "dataplane/proxy/forward.h"

namespace keel::proxy {
namespace {

bool IEquals(std::string_view a, std::string_view b) { return http1::EqualsIgnoreCase(a, b); }

void AppendHeader(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ");
  out->append(value);
  out->append("\r\n");
}

// Headers we always set ourselves, never copied from the client.
bool Replaced(std::string_view name, bool trust_forwarded) {
  if (IEquals(name, "host") || IEquals(name, "content-length") || IEquals(name, "expect") ||
      IEquals(name, "x-request-id") || IEquals(name, "x-real-ip") || IEquals(name, "http2-settings")) {
    return true;
  }
  if (trust_forwarded) return false;
  return IEquals(name, "x-forwarded-for") || IEquals(name, "x-forwarded-proto") ||
         IEquals(name, "x-forwarded-host") || IEquals(name, "x-forwarded-port") || IEquals(name, "forwarded");
}

}  // namespace

std::optional<std::string_view> FindHeader(std::span<const http1::Header> fields, std::string_view name) {
  for (const auto& h : fields) {
    if (IEquals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 200) return false;
  for (unsigned char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
              c == '_' || c == '.' || c == ':' || c == '+' || c == '/' || c == '=';
    if (!ok) return false;
  }
  return true;
}

void AppendUpstreamHead(const http1::RequestHead& head, std::string_view upstream_path, const ForwardInfo& info,
                        std::string* out) {
  out->append(head.method);
  out->push_back(' ');
  out->append(upstream_path);
  out->append(" HTTP/1.1\r\n");
  AppendHeader(out, "host", info.host_override.empty() ? head.host : info.host_override);

  http1::ConnectionTokens tokens;
  tokens.AddAll(head.fields());
  std::string_view prior_xff;
  std::string_view prior_proto, prior_host, prior_port;
  for (size_t i = 0; i < head.num_headers; ++i) {
    const auto& h = head.headers[i];
    if (http1::IsHopByHop(h.name) || tokens.Contains(h.name)) continue;
    if (info.trust_forwarded) {
      if (IEquals(h.name, "x-forwarded-for")) { prior_xff = h.value; continue; }
      if (IEquals(h.name, "x-forwarded-proto")) { prior_proto = h.value; continue; }
      if (IEquals(h.name, "x-forwarded-host")) { prior_host = h.value; continue; }
      if (IEquals(h.name, "x-forwarded-port")) { prior_port = h.value; continue; }
    }
    if (Replaced(h.name, info.trust_forwarded)) continue;
    AppendHeader(out, h.name, h.value);
  }
  if (head.upgrade) {
    AppendHeader(out, "connection", "upgrade");
    AppendHeader(out, "upgrade", head.upgrade_protocol);
  }
  if (!prior_xff.empty()) {
    out->append("x-forwarded-for: ");
    out->append(prior_xff);
    out->append(", ");
    out->append(info.client_ip);
    out->append("\r\n");
  } else {
    AppendHeader(out, "x-forwarded-for", info.client_ip);
  }
  AppendHeader(out, "x-real-ip", info.client_ip);
  AppendHeader(out, "x-forwarded-proto", prior_proto.empty() ? info.scheme : prior_proto);
  AppendHeader(out, "x-forwarded-host", prior_host.empty() ? head.host : prior_host);
  if (!prior_port.empty()) {
    AppendHeader(out, "x-forwarded-port", prior_port);
  } else {
    AppendHeader(out, "x-forwarded-port", std::to_string(info.local_port));
  }
  AppendHeader(out, "x-request-id", info.request_id);
}

void AppendResponseHeaders(const http1::ResponseHead& head, bool upgraded, std::string* out) {
  http1::ConnectionTokens tokens;
  tokens.AddAll(head.fields());
  for (size_t i = 0; i < head.num_headers; ++i) {
    const auto& h = head.headers[i];
    if (upgraded && (IEquals(h.name, "upgrade") || IEquals(h.name, "connection"))) {
      AppendHeader(out, h.name, h.value);
      continue;
    }
    if (http1::IsHopByHop(h.name) || tokens.Contains(h.name) || IEquals(h.name, "content-length")) continue;
    AppendHeader(out, h.name, h.value);
  }
}

bool TrailerAllowed(std::string_view name) {
  return !(http1::IsHopByHop(name) || IEquals(name, "content-length") || IEquals(name, "host") ||
           IEquals(name, "trailer") || IEquals(name, "content-encoding") || IEquals(name, "content-type") ||
           IEquals(name, "set-cookie"));
}

void AppendTrailerFields(std::span<const http1::Header> trailers, std::string* out) {
  for (const auto& t : trailers) {
    if (TrailerAllowed(t.name)) AppendHeader(out, t.name, t.value);
  }
}

}  // namespace keel::proxy
