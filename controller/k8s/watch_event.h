// One line of a watch stream, decoded: {"type":"ADDED","object":{...}}. Pure (no
// I/O), so it is tested on the captured bytes directly.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "controller/k8s/api_status.h"

namespace keel::k8s {

enum class EventType { kAdded, kModified, kDeleted, kBookmark, kError };

struct WatchEvent {
  EventType type = EventType::kAdded;
  nlohmann::json object;
  // object.metadata.resourceVersion (empty for ERROR events).
  std::string resource_version;
  // For ERROR events: the Status carried in `object` (code 410 / reason Expired: relist).
  ApiStatus error;
};

// Errors for lines that are not JSON, lack "type"/"object", carry an unknown type,
// or an ADDED/MODIFIED/DELETED/BOOKMARK object without metadata.resourceVersion.
Result<WatchEvent> ParseWatchEvent(std::string_view line);

}  // namespace keel::k8s
