// Watch event decoding.
#include "controller/k8s/watch_event.h"

namespace keel::k8s {

Result<WatchEvent> ParseWatchEvent(std::string_view line) {
  auto j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{"watch event is not a JSON object"};
  if (!j.contains("type") || !j["type"].is_string() || !j.contains("object") || !j["object"].is_object()) {
    return Error{"watch event without type and object"};
  }
  WatchEvent ev;
  const std::string type = j["type"].get<std::string>();
  if (type == "ADDED") {
    ev.type = EventType::kAdded;
  } else if (type == "MODIFIED") {
    ev.type = EventType::kModified;
  } else if (type == "DELETED") {
    ev.type = EventType::kDeleted;
  } else if (type == "BOOKMARK") {
    ev.type = EventType::kBookmark;
  } else if (type == "ERROR") {
    ev.type = EventType::kError;
  } else {
    return Error{"unknown watch event type \"" + type + "\""};
  }
  ev.object = std::move(j["object"]);
  if (ev.type == EventType::kError) {
    // The HTTP reply was 200; the Status inside says what went wrong (410: relist).
    ev.error = ParseStatus(500, ev.object);
    return ev;
  }
  const auto meta = ev.object.find("metadata");
  if (meta == ev.object.end() || !meta->is_object() || !meta->contains("resourceVersion") ||
      !(*meta)["resourceVersion"].is_string()) {
    return Error{"watch " + type + " event without metadata.resourceVersion"};
  }
  ev.resource_version = (*meta)["resourceVersion"].get<std::string>();
  if (ev.type != EventType::kBookmark && (!meta->contains("name") || !(*meta)["name"].is_string())) {
    return Error{"watch " + type + " event without metadata.name"};
  }
  return ev;
}

}  // namespace keel::k8s
