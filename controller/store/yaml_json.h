// YAML → JSON for manifests, with the scalar typing kubectl applies (sigs.k8s.io/yaml
// on go-yaml v2, YAML 1.1 rules): plain `80` is an integer and `"80"` a string; plain
// true/false/yes/no/on/off/y/n are booleans; ~, null and empty values are null;
// quoted and block scalars (`|`, `>`, e.g. PEM data) are always strings.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace keel::store {

// Every document of a YAML stream (`---` separated), converted to JSON. Empty
// documents become JSON null. Fails on a YAML syntax error ("line 3, column 5: ..."),
// on non-scalar mapping keys, or when alias expansion would exceed ~1M nodes (a
// "billion laughs" file must not take the controller down).
Result<std::vector<nlohmann::json>> YamlToJsonDocuments(std::string_view text);

}  // namespace keel::store
