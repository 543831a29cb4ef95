// MakeCert: `openssl req -x509` in a temporary directory.
#include "tests/tls/test_certs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace keel::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Pem MakeCert(const std::string& cn, const std::string& sans, bool rsa) {
  char tmpl[] = "/tmp/keel-tls-test-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  EXPECT_NE(dir, nullptr);
  std::string d = dir ? dir : "/tmp";
  std::string cmd = "openssl req -x509 -nodes -days 2 -subj '/CN=" + cn + "' " +
                    (rsa ? "-newkey rsa:2048" : "-newkey ec -pkeyopt ec_paramgen_curve:P-256") +
                    (sans.empty() ? "" : " -addext 'subjectAltName=" + sans + "'") + " -keyout " + d +
                    "/key.pem -out " + d + "/cert.pem 2>" + d + "/err.txt";
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << cmd << ": " << ReadFile(d + "/err.txt");
  Pem out{ReadFile(d + "/cert.pem"), ReadFile(d + "/key.pem")};
  std::filesystem::remove_all(d);
  return out;
}

}  // namespace keel::testing
