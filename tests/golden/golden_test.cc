// Golden runner: every tests/golden/<case>/input.yaml goes through the manifests-folder
// parse path into a Store, is translated with fixed options (plus the case's
// options.json, if any), and must equal <case>/want.json byte for byte.
// KEEL_UPDATE_GOLDEN=1 rewrites want.json instead (review the diff before committing).
#include <dirent.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "controller/store/manifests.h"
#include "controller/store/store.h"
#include "controller/translate/translate.h"
#include "controller/translate/x509_openssl.h"

namespace keel::translate {
namespace {

const std::string kDir = KEEL_GOLDEN_DIR;

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  DIR* d = opendir(kDir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    struct stat st {};
    if (name[0] == '.' || stat((kDir + "/" + name + "/input.yaml").c_str(), &st) != 0) continue;
    names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TranslateOptions OptionsFor(const std::string& dir, const CertificateValidator* validator) {
  TranslateOptions o;
  o.controller_class = "keel.dev/ingress-controller";
  o.ingress_class = "keel";
  o.certificate_validator = validator;
  std::string text = ReadFile(dir + "/options.json");
  if (text.empty()) return o;
  nlohmann::json j = nlohmann::json::parse(text);
  o.watch_without_class = j.value("watch_without_class", o.watch_without_class);
  o.default_ssl_certificate = j.value("default_ssl_certificate", o.default_ssl_certificate);
  o.ssl_redirect = j.value("ssl_redirect", o.ssl_redirect);
  o.ingress_class = j.value("ingress_class", o.ingress_class);
  o.controller_class = j.value("controller_class", o.controller_class);
  o.annotation_prefix = j.value("annotation_prefix", o.annotation_prefix);
  return o;
}

// Snapshot as protobuf JSON plus diagnostics and owned Ingresses, keys sorted.
std::string Render(const TranslateResult& r) {
  google::protobuf::util::JsonPrintOptions po;
  po.preserve_proto_field_names = true;
  std::string snapshot_json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(r.snapshot, &snapshot_json, po).ok());
  nlohmann::json out;
  out["snapshot"] = nlohmann::json::parse(snapshot_json);
  out["diagnostics"] = nlohmann::json::array();
  for (const Diagnostic& d : r.diagnostics) {
    out["diagnostics"].push_back({{"kind", d.kind},
                                  {"namespace", d.ns},
                                  {"name", d.name},
                                  {"severity", std::string(SeverityName(d.severity))},
                                  {"reason", d.reason},
                                  {"message", d.message}});
  }
  out["owned_ingresses"] = nlohmann::json::array();
  for (const store::ObjectRef& ref : r.owned_ingresses) out["owned_ingresses"].push_back(ref.str());
  return out.dump(2) + "\n";
}

// The first differing line, for a readable failure.
std::string FirstDifference(const std::string& want, const std::string& got) {
  std::istringstream a(want), b(got);
  std::string la, lb;
  for (int line = 1;; ++line) {
    bool ea = !std::getline(a, la), eb = !std::getline(b, lb);
    if (ea && eb) return "identical";
    if (ea != eb || la != lb) {
      return "line " + std::to_string(line) + ":\n  want: " + (ea ? "<end>" : la) +
             "\n  got:  " + (eb ? "<end>" : lb);
    }
  }
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, Matches) {
  const std::string dir = kDir + "/" + GetParam();
  Result<store::ManifestFile> file =
      store::ParseManifestText(ReadFile(dir + "/input.yaml"), store::ManifestFormat::kYaml);
  ASSERT_TRUE(file.ok()) << file.error();
  std::map<store::Kind, std::vector<nlohmann::json>> by_kind;
  for (const store::ManifestObject& o : file->objects) by_kind[o.kind].push_back(o.object);
  store::Store st;
  for (store::Kind k : store::kAllKinds) st.Replace(k, by_kind[k]);
  OpenSslCertificateValidator validator;
  TranslateResult result = Translate(st.View(), OptionsFor(dir, &validator));
  const std::string got = Render(result);
  if (const char* update = std::getenv("KEEL_UPDATE_GOLDEN");
      update != nullptr && std::string(update) == "1") {
    std::ofstream(dir + "/want.json", std::ios::binary) << got;
    GTEST_SKIP() << "rewrote " << dir << "/want.json";
  }
  const std::string want = ReadFile(dir + "/want.json");
  ASSERT_FALSE(want.empty()) << dir << "/want.json missing: run with KEEL_UPDATE_GOLDEN=1";
  EXPECT_EQ(want, got) << FirstDifference(want, got);
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(CaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(GoldenSuite, HasEnoughCases) { EXPECT_GE(CaseNames().size(), 45u); }

}  // namespace
}  // namespace keel::translate
