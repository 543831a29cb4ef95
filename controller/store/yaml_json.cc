// YAML → JSON conversion on top of yaml-cpp. yaml-cpp keeps the tag "!" on quoted and
// block scalars and "?" on plain ones, which is what lets us type plain scalars the way
// go-yaml v2 does while leaving quoted ones alone.
#include "controller/store/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

namespace keel::store {
namespace {

using nlohmann::json;

constexpr size_t kMaxNodes = 1'000'000;
constexpr int kMaxDepth = 200;

bool OneOf(std::string_view v, std::initializer_list<std::string_view> options) {
  for (std::string_view o : options) {
    if (v == o) return true;
  }
  return false;
}

std::optional<bool> YamlBool(std::string_view v) {
  if (OneOf(v, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})) return true;
  if (OneOf(v, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"})) return false;
  return std::nullopt;
}

// go-yaml v2 integers: optional sign, decimal, 0x hex, 0b binary, leading-0 octal, with
// '_' separators allowed.
std::optional<json> YamlInt(std::string_view v) {
  std::string s;
  for (char c : v) {
    if (c != '_') s.push_back(c);
  }
  if (s.empty()) return std::nullopt;
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (i >= s.size()) return std::nullopt;
  bool negative = s[0] == '-';
  std::string digits = s.substr(i);
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits = digits.substr(2);
  } else if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'b' || digits[1] == 'B')) {
    base = 2;
    digits = digits.substr(2);
  } else if (digits.size() > 1 && digits[0] == '0') {
    base = 8;
    digits = digits.substr(1);
  }
  for (char c : digits) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : 99;
    if (d >= base) return std::nullopt;
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long mag = std::strtoull(digits.c_str(), &end, base);
  if (errno != 0 || end != digits.c_str() + digits.size()) return std::nullopt;  // overflow → float
  if (negative) {
    if (mag > 9223372036854775808ull) return std::nullopt;
    return json(static_cast<int64_t>(0 - mag));
  }
  if (mag <= 9223372036854775807ull) return json(static_cast<int64_t>(mag));
  return json(static_cast<uint64_t>(mag));
}

std::optional<json> YamlFloat(std::string_view v) {
  // Only the plain decimal forms; .inf/.nan have no JSON form and stay strings.
  bool digit = false;
  for (char c : v) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' && c != '_') {
      return std::nullopt;
    }
  }
  if (!digit) return std::nullopt;
  std::string s;
  for (char c : v) {
    if (c != '_') s.push_back(c);
  }
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d)) return std::nullopt;
  return json(d);
}

json PlainScalar(const std::string& v) {
  if (OneOf(v, {"", "~", "null", "Null", "NULL"})) return nullptr;
  if (auto b = YamlBool(v)) return *b;
  if (auto i = YamlInt(v)) return *i;
  if (auto f = YamlFloat(v)) return *f;
  return v;
}

class Converter {
 public:
  Result<json> Convert(const YAML::Node& node, int depth) {
    if (++nodes_ > kMaxNodes) return Error{"document too large (more than 1M nodes after alias expansion)"};
    if (depth > kMaxDepth) return Error{"document nested too deeply"};
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return json(nullptr);
      case YAML::NodeType::Scalar:
        return Scalar(node);
      case YAML::NodeType::Sequence: {
        json out = json::array();
        for (const YAML::Node& child : node) {
          Result<json> c = Convert(child, depth + 1);
          if (!c.ok()) return c;
          out.push_back(std::move(c.value()));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        json out = json::object();
        for (auto it = node.begin(); it != node.end(); ++it) {
          if (!it->first.IsScalar()) {
            return Error{"line " + std::to_string(it->first.Mark().line + 1) +
                         ": mapping keys must be scalars"};
          }
          if (it->first.Scalar() == "<<") continue;  // merge keys: not used by Kubernetes manifests
          Result<json> c = Convert(it->second, depth + 1);
          if (!c.ok()) return c;
          out[it->first.Scalar()] = std::move(c.value());
        }
        return out;
      }
    }
    return json(nullptr);
  }

 private:
  static Result<json> Scalar(const YAML::Node& node) {
    const std::string& tag = node.Tag();
    const std::string& v = node.Scalar();
    if (tag == "?" || tag.empty()) return PlainScalar(v);
    if (tag == "tag:yaml.org,2002:int") {
      if (auto i = YamlInt(v)) return *i;
      return Error{"line " + std::to_string(node.Mark().line + 1) + ": !!int " + v + " is not an integer"};
    }
    if (tag == "tag:yaml.org,2002:bool") {
      if (auto b = YamlBool(v)) return json(*b);
      return Error{"line " + std::to_string(node.Mark().line + 1) + ": !!bool " + v + " is not a boolean"};
    }
    if (tag == "tag:yaml.org,2002:float") {
      if (auto f = YamlFloat(v)) return *f;
      if (auto i = YamlInt(v)) return json(static_cast<double>(i->get<int64_t>()));
      return Error{"line " + std::to_string(node.Mark().line + 1) + ": !!float " + v + " is not a number"};
    }
    if (tag == "tag:yaml.org,2002:null") return json(nullptr);
    return json(v);  // "!" (quoted / block), !!str, and application tags: strings
  }

  size_t nodes_ = 0;
};

}  // namespace

Result<std::vector<nlohmann::json>> YamlToJsonDocuments(std::string_view text) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error{e.what()};
  }
  std::vector<json> out;
  Converter converter;
  try {
    for (const YAML::Node& doc : docs) {
      Result<json> j = converter.Convert(doc, 0);
      if (!j.ok()) return Error{j.error()};
      out.push_back(std::move(j.value()));
    }
  } catch (const YAML::Exception& e) {
    return Error{e.what()};
  }
  return out;
}

}  // namespace keel::store
