// The cache's operator endpoints, served by the admin listener only (loopback or the
// admin port — never the traffic listeners, so a client cannot purge):
//   POST|PURGE /cache/purge?url=http://host/path?q   every variant of one URL
//   POST|PURGE /cache/purge?host=example.com          every key of one host
//   POST|PURGE /cache/purge?prefix=http://host/img/   every key starting with it
//   GET        /cache/stats                           counters and bytes as JSON
// Parameters are percent-decoded. Pure functions of the Store: app.cc wires them.
#pragma once

#include <string>

#include "dataplane/cache/store.h"

namespace keel::cache {

struct AdminAnswer {
  int status = 200;
  std::string body;
};

AdminAnswer HandlePurge(Store& store, const std::string& method, const std::string& path_and_query);
std::string StatsJson(Store& store);

}  // namespace keel::cache
