// Collects diagnostics during one translation; Take() returns them sorted and unique so
// that the output is deterministic whatever order the rules ran in.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "controller/store/objects.h"
#include "controller/translate/translate.h"

namespace keel::translate {

class Diagnostics {
 public:
  void Add(std::string_view kind, const store::ObjectRef& ref, Severity severity, std::string reason,
           std::string message) {
    items_.push_back({std::string(kind), ref.ns, ref.name, severity, std::move(reason), std::move(message)});
  }
  void Ingress(const store::Ingress& ing, Severity severity, std::string reason, std::string message) {
    Add("Ingress", ing.meta.ref(), severity, std::move(reason), std::move(message));
  }
  std::vector<Diagnostic> Take();

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace keel::translate
