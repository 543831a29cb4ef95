#include "common/flags.h"

#include <charconv>
#include <iostream>
#include <sstream>

namespace keel {

Flags::Flags(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void Flags::String(const std::string& name, std::string* target, const std::string& help) {
  flags_.push_back({name, help, *target, false, [target](const std::string& v) {
                      *target = v;
                      return true;
                    }});
}

void Flags::Int(const std::string& name, int64_t* target, const std::string& help) {
  flags_.push_back({name, help, std::to_string(*target), false, [target](const std::string& v) {
                      int64_t out = 0;
                      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
                      if (ec != std::errc() || p != v.data() + v.size()) return false;
                      *target = out;
                      return true;
                    }});
}

void Flags::Bool(const std::string& name, bool* target, const std::string& help) {
  flags_.push_back({name, help, *target ? "true" : "false", true, [target](const std::string& v) {
                      if (v == "true" || v == "1" || v.empty()) *target = true;
                      else if (v == "false" || v == "0") *target = false;
                      else return false;
                      return true;
                    }});
}

void Flags::List(const std::string& name, std::vector<std::string>* target, const std::string& help) {
  flags_.push_back({name, help, "", false, [target](const std::string& v) {
                      target->push_back(v);
                      return true;
                    }});
}

bool Flags::Parse(int argc, char** argv, bool* help_requested) {
  *help_requested = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << Usage();
      *help_requested = true;
      return true;
    }
    if (arg.rfind("--", 0) != 0) {
      std::cerr << program_ << ": unexpected argument '" << arg << "' (see --help)\n";
      return false;
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    bool negated = false;
    const Flag* flag = nullptr;
    for (const auto& f : flags_) {
      if (f.name == name) flag = &f;
      else if (f.is_bool && "no-" + f.name == name) flag = &f, negated = true;
    }
    if (!flag) {
      std::cerr << program_ << ": unknown flag --" << name << " (see --help)\n";
      return false;
    }
    if (flag->is_bool) {
      if (negated) value = "false";
    } else if (!has_value) {
      if (i + 1 >= argc) {
        std::cerr << program_ << ": --" << name << " needs a value\n";
        return false;
      }
      value = argv[++i];
    }
    if (!flag->set(value)) {
      std::cerr << program_ << ": bad value '" << value << "' for --" << name << "\n";
      return false;
    }
  }
  return true;
}

std::string Flags::Usage() const {
  std::ostringstream out;
  out << "Usage: " << program_ << " [flags]\n\n" << summary_ << "\n\nFlags:\n";
  for (const auto& f : flags_) {
    out << "  --" << f.name << (f.is_bool ? "" : "=VALUE") << "\n      " << f.help;
    if (!f.default_text.empty()) out << " (default: " << f.default_text << ")";
    out << "\n";
  }
  out << "  --help\n      Print this help and exit.\n";
  return out.str();
}

}  // namespace keel
