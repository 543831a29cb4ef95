// A small command-line flag parser: "--name=value", "--name value", "--bool-flag",
// "--no-bool-flag", and "--help" that prints every flag with its help text and default.
// Both binaries declare their flags up front so --help is always complete.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace keel {

class Flags {
 public:
  Flags(std::string program, std::string summary);

  void String(const std::string& name, std::string* target, const std::string& help);
  void Int(const std::string& name, int64_t* target, const std::string& help);
  void Bool(const std::string& name, bool* target, const std::string& help);
  // A flag that may be given several times; each value is appended.
  void List(const std::string& name, std::vector<std::string>* target, const std::string& help);

  // Returns false on a parse error (message on stderr). Sets *help_requested when
  // --help was given (usage already printed to stdout): the caller exits 0.
  bool Parse(int argc, char** argv, bool* help_requested);
  std::string Usage() const;

 private:
  struct Flag {
    std::string name, help, default_text;
    bool is_bool = false;
    std::function<bool(const std::string&)> set;
  };
  std::string program_, summary_;
  std::vector<Flag> flags_;
};

}  // namespace keel
