// Hop-by-hop names, Connection options, reason phrases and status lines.
#include "dataplane/http1/fields.h"

#include "dataplane/http1/internal.h"

namespace keel::http1 {

bool IsHopByHop(std::string_view name) {
  // Dispatch on length first: most forwarded names fail here without a compare.
  switch (name.size()) {
    case 2:
      return EqualsIgnoreCase(name, "te");
    case 7:
      return EqualsIgnoreCase(name, "trailer") || EqualsIgnoreCase(name, "upgrade");
    case 10:
      return EqualsIgnoreCase(name, "connection") || EqualsIgnoreCase(name, "keep-alive");
    case 16:
      return EqualsIgnoreCase(name, "proxy-connection");
    case 17:
      return EqualsIgnoreCase(name, "transfer-encoding");
    case 18:
      return EqualsIgnoreCase(name, "proxy-authenticate");
    case 19:
      return EqualsIgnoreCase(name, "proxy-authorization");
    default:
      return false;
  }
}

bool ConnectionTokens::Add(std::string_view field_value) {
  return internal::ForEachListElement(field_value, [this](std::string_view token) {
    if (!internal::IsToken(token) || size_ == kMaxTokens) return false;
    tokens_[size_++] = token;
    return true;
  });
}

bool ConnectionTokens::AddAll(std::span<const Header> headers) {
  for (const Header& h : headers) {
    if (EqualsIgnoreCase(h.name, "connection") && !Add(h.value)) return false;
  }
  return true;
}

bool ConnectionTokens::Contains(std::string_view name) const {
  for (size_t i = 0; i < size_; ++i) {
    if (EqualsIgnoreCase(tokens_[i], name)) return true;
  }
  return false;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 451:
      return "Unavailable For Legal Reasons";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

void AppendStatusLine(std::string* out, int status, int minor_version) {
  char line[13] = {'H', 'T', 'T', 'P', '/', '1', '.', '1', ' ', '0', '0', '0', ' '};
  line[7] = static_cast<char>('0' + minor_version);
  line[9] = static_cast<char>('0' + status / 100 % 10);
  line[10] = static_cast<char>('0' + status / 10 % 10);
  line[11] = static_cast<char>('0' + status % 10);
  std::string_view reason = ReasonPhrase(status);
  out->reserve(out->size() + sizeof line + reason.size() + 2);
  out->append(line, sizeof line);
  out->append(reason);
  out->append("\r\n", 2);
}

}  // namespace keel::http1
