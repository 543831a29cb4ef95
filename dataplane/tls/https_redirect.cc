// RedirectToHttps: the ssl-redirect decision for one plain-HTTP request.
#include "dataplane/tls/https_redirect.h"

#include "keel/config/v1/config.pb.h"

namespace keel::tls {

bool RedirectToHttps(const proxy::Runtime& rt, const http1::RequestHead& head, proxy::RouteDecision* d) {
  if (!rt.snapshot->global().ssl_redirect()) return false;
  if (d->kind == proxy::RouteDecision::Kind::kNotFound) return false;  // no route, nothing to secure
  if (d->policy && d->policy->no_ssl_redirect()) return false;
  const auto* vh = rt.routes->FindVirtualHost(head.host);
  if (!vh || vh->certificate.empty()) return false;
  std::string_view host = head.host;
  // Drop a port: the HTTPS side is on the standard port behind the Service.
  if (size_t colon = host.rfind(':'); colon != std::string_view::npos && host.back() != ']') {
    host = host.substr(0, colon);
  }
  d->kind = proxy::RouteDecision::Kind::kRedirect;
  d->status = 308;
  d->location.assign("https://");
  d->location.append(host);
  if (!head.target.empty() && head.target[0] == '/') {
    d->location.append(head.target);
  } else {  // absolute-form: its path and query
    d->location.append(head.path);
    if (!head.query.empty()) d->location.append("?").append(head.query);
  }
  return true;
}

}  // namespace keel::tls
