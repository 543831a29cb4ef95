// The HTTP → HTTPS redirect (308, so the method and body survive: RFC 9110 §15.4.9)
// that plain-listener requests get for hosts that have TLS, like ingress-nginx's
// ssl-redirect: on unless GlobalSettings.ssl_redirect is off or the route sets
// RoutePolicy.no_ssl_redirect (ACME HTTP-01 challenges must stay on plain HTTP).
//
// Part of keel_proxy (it reads the Runtime).
#pragma once

#include "dataplane/http1/parser.h"
#include "dataplane/proxy/decision.h"
#include "dataplane/proxy/runtime.h"

namespace keel::tls {

// Turns `d` into a 308 to https://<host><target> when the rules above say so. Call
// only for requests that arrived without TLS. Returns true when it did.
bool RedirectToHttps(const proxy::Runtime& rt, const http1::RequestHead& head, proxy::RouteDecision* d);

}  // namespace keel::tls
