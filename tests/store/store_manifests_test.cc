// YAML → JSON typing, manifest flattening, and the manifests-folder source with reload.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "controller/store/manifests.h"
#include "controller/store/store.h"
#include "controller/store/yaml_json.h"

namespace keel::store {
namespace {

using nlohmann::json;

json One(const std::string& yaml) {
  Result<std::vector<json>> docs = YamlToJsonDocuments(yaml);
  EXPECT_TRUE(docs.ok()) << docs.error();
  EXPECT_EQ(docs->size(), 1u);
  return docs->at(0);
}

TEST(YamlToJson, ScalarTypingLikeKubectl) {
  json j =
      One("int: 80\nstr: \"80\"\nsq: '80'\nhex: 0x50\nunderscore: 8_080\nneg: -3\nfloat: 1.5\nexp: 1e3\n"
          "t: true\nyes: yes\nOn: On\nf: false\nno: NO\nnull1: ~\nnull2: null\nnull3:\nqt: \"true\"\n"
          "str2: !!str 12\nint2: !!int \"12\"\nversion: 1.10\nword: hello world\nip: 10.0.0.1\n"
          "block: |\n  line1\n  line2\nfolded: >\n  a\n  b\n");
  EXPECT_EQ(j["int"], 80);
  EXPECT_TRUE(j["int"].is_number_integer());
  EXPECT_EQ(j["str"], "80");
  EXPECT_EQ(j["sq"], "80");
  EXPECT_EQ(j["hex"], 80);
  EXPECT_EQ(j["underscore"], 8080);
  EXPECT_EQ(j["neg"], -3);
  EXPECT_EQ(j["float"], 1.5);
  EXPECT_EQ(j["exp"], 1000.0);
  EXPECT_EQ(j["t"], true);
  EXPECT_EQ(j["yes"], true);  // YAML 1.1, as go-yaml v2 (kubectl) reads it
  EXPECT_EQ(j["On"], true);
  EXPECT_EQ(j["f"], false);
  EXPECT_EQ(j["no"], false);
  EXPECT_TRUE(j["null1"].is_null());
  EXPECT_TRUE(j["null2"].is_null());
  EXPECT_TRUE(j["null3"].is_null());
  EXPECT_EQ(j["qt"], "true");
  EXPECT_EQ(j["str2"], "12");
  EXPECT_EQ(j["int2"], 12);
  EXPECT_EQ(j["version"], 1.1);  // the classic YAML trap, same as kubectl
  EXPECT_EQ(j["word"], "hello world");
  EXPECT_EQ(j["ip"], "10.0.0.1");
  EXPECT_EQ(j["block"], "line1\nline2\n");
  EXPECT_EQ(j["folded"], "a b\n");
}

TEST(YamlToJson, SequencesMapsAndErrors) {
  json j = One("list: [1, 'a', {k: v}]\nnested:\n  - x: 1\n  - [2, 3]\n80: numeric key\n");
  EXPECT_EQ(j["list"], json::parse(R"([1, "a", {"k": "v"}])"));
  EXPECT_EQ(j["nested"][1], json::parse("[2, 3]"));
  EXPECT_EQ(j["80"], "numeric key");

  Result<std::vector<json>> bad = YamlToJsonDocuments("a: [1,\nb: }");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("line"), std::string::npos);

  // Alias bombs are cut off instead of expanding to billions of nodes.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    bomb += std::string(1, c) + ": &" + std::string(1, c) + " [*" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" +
            prev + "]\n";
  }
  Result<std::vector<json>> big = YamlToJsonDocuments(bomb);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().find("too large"), std::string::npos);
}

TEST(ParseManifestText, FlattensListsAndDefaultsNamespace) {
  const std::string text =
      "apiVersion: v1\nkind: List\nitems:\n"
      "- {apiVersion: v1, kind: Service, metadata: {name: web}}\n"
      "- {apiVersion: v1, kind: ConfigMap, metadata: {name: cm}}\n"
      "---\n"
      "---\n"
      "apiVersion: networking.k8s.io/v1\nkind: IngressList\nitems:\n- metadata: {name: from-list, namespace: "
      "app}\n"
      "---\n"
      "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: keel}\n"
      "---\n"
      "kind: Service\n"
      "---\n"
      "metadata: {name: no-kind}\n"
      "---\n"
      "- just a list\n";
  Result<ManifestFile> f = ParseManifestText(text, ManifestFormat::kYaml);
  ASSERT_TRUE(f.ok()) << f.error();
  ASSERT_EQ(f->objects.size(), 3u);
  EXPECT_EQ(f->objects[0].kind, Kind::Service);
  EXPECT_EQ(f->objects[0].object["metadata"]["namespace"], "default");
  EXPECT_EQ(f->objects[1].kind, Kind::Ingress);
  EXPECT_EQ(f->objects[1].object["metadata"]["namespace"], "app");
  EXPECT_EQ(f->objects[2].kind, Kind::IngressClass);
  EXPECT_FALSE(f->objects[2].object["metadata"].contains("namespace"));
  EXPECT_EQ(f->warnings.size(),
            2u);  // no kind; not an object ("kind: Service" alone has no apiVersion → ignored)

  Result<ManifestFile> j = ParseManifestText(
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"x"}})", ManifestFormat::kJson);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->objects.size(), 1u);
  EXPECT_FALSE(ParseManifestText("{not json", ManifestFormat::kJson).ok());
}

// Mirrors what a sink was told, per kind (name → object), and counts the calls.
class RecordingSink : public ObjectSink {
 public:
  void Replace(Kind kind, const std::vector<json>& objects) override {
    std::lock_guard<std::mutex> lock(mu_);
    replaces_++;
    auto& m = objects_[kind];
    m.clear();
    for (const json& o : objects) m[o["metadata"]["name"].get<std::string>()] = o;
  }
  void Upsert(Kind kind, const json& object) override {
    std::lock_guard<std::mutex> lock(mu_);
    upserts_++;
    objects_[kind][object["metadata"]["name"].get<std::string>()] = object;
  }
  void Remove(Kind kind, const std::string&, const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    removes_++;
    EXPECT_EQ(objects_[kind].erase(name), 1u) << "removed an object the sink never had: " << name;
  }
  void Apply(const std::vector<SinkChange>& changes) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      batches_++;
    }
    ObjectSink::Apply(changes);
  }
  std::vector<std::string> Names(Kind kind) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [name, _] : objects_[kind]) out.push_back(name);
    return out;
  }
  json Get(Kind kind, const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    return objects_[kind][name];
  }
  int replaces_ = 0, upserts_ = 0, removes_ = 0, batches_ = 0;
  void ResetCounts() { replaces_ = upserts_ = removes_ = batches_ = 0; }

 private:
  std::mutex mu_;
  std::map<Kind, std::map<std::string, json>> objects_;
};

class ManifestsSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/keel-manifests-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  void Write(const std::string& name, const std::string& text) {
    // Write-then-rename, as editors and ConfigMap updates do: the inode changes.
    std::ofstream(dir_ + "/." + name + ".tmp") << text;
    ASSERT_EQ(std::rename((dir_ + "/." + name + ".tmp").c_str(), (dir_ + "/" + name).c_str()), 0);
  }
  static std::string Svc(const std::string& name, int port = 80) {
    return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name +
           "\nspec:\n  ports: [{port: " + std::to_string(port) + "}]\n";
  }
  // `n` Services s<first>..s<first+n-1> in one multi-document file.
  static std::string Many(int first, int n) {
    std::string out;
    for (int i = first; i < first + n; ++i)
      out += (out.empty() ? "" : "---\n") + Svc("s" + std::to_string(i));
    return out;
  }
  static int PortOf(const json& svc) { return svc["spec"]["ports"][0]["port"].get<int>(); }
  std::string dir_;
};

TEST_F(ManifestsSourceTest, LoadsEveryManifestFile) {
  Write("a.yaml", Svc("a") + "---\n" + Svc("a2"));
  Write("b.yml", Svc("b"));
  Write("c.json", R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"c"}})");
  Write("notes.txt", Svc("ignored"));
  Write(".hidden.yaml", Svc("hidden"));
  RecordingSink sink;
  ManifestsSource src(dir_, &sink);
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(sink.Names(Kind::Service), (std::vector<std::string>{"a", "a2", "b", "c"}));
  EXPECT_TRUE(sink.Names(Kind::Ingress).empty());  // every kind is replaced, even when empty
  EXPECT_EQ(src.reloads(), 1u);
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(src.reloads(), 1u);  // nothing changed: the sink is not fed again
}

TEST_F(ManifestsSourceTest, BrokenFileKeepsLastGoodObjectsOthersLoad) {
  Write("a.yaml", Svc("a"));
  Write("b.yaml", Svc("b"));
  RecordingSink sink;
  ManifestsSource src(dir_, &sink);
  ASSERT_TRUE(src.LoadOnce().ok());
  Write("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: [unclosed\n");
  Write("b.yaml", Svc("b") + "---\n" + Svc("b2"));
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(sink.Names(Kind::Service), (std::vector<std::string>{"a", "b", "b2"}));
  EXPECT_EQ(src.FileErrors().count("a.yaml"), 1u);
  Write("a.yaml", Svc("a-fixed"));
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(sink.Names(Kind::Service), (std::vector<std::string>{"a-fixed", "b", "b2"}));
  EXPECT_TRUE(src.FileErrors().empty());
  ASSERT_EQ(std::remove((dir_ + "/b.yaml").c_str()), 0);
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(sink.Names(Kind::Service), (std::vector<std::string>{"a-fixed"}));
}

TEST_F(ManifestsSourceTest, DuplicateAcrossFilesFirstWins) {
  Write("a.yaml", Svc("same"));
  Write("b.yaml", Svc("same") + "---\n" + Svc("other"));
  RecordingSink sink;
  ManifestsSource src(dir_, &sink);
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(sink.Names(Kind::Service), (std::vector<std::string>{"other", "same"}));
}

// ─── incremental reload: only what changed reaches the sink ───

TEST_F(ManifestsSourceTest, ChangedFileSendsOnlyItsChangedObjects) {
  Write("a.yaml", Many(0, 50));
  Write("b.yaml", Many(50, 50));
  RecordingSink sink;
  ManifestsSource src(dir_, &sink);
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(sink.replaces_, 5);  // the first scan replaces every kind
  EXPECT_EQ(src.last_fed_objects(), 100u);
  sink.ResetCounts();
  // One Service of b.yaml changes port; the other 49 in the rewritten file do not.
  std::string b = Many(50, 49) + "---\n" + Svc("s99", 8080);
  Write("b.yaml", b);
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(src.reloads(), 2u);
  EXPECT_EQ(src.last_fed_objects(), 1u);
  EXPECT_EQ(sink.batches_, 1);
  EXPECT_EQ(sink.upserts_, 1);
  EXPECT_EQ(sink.replaces_ + sink.removes_, 0);
  EXPECT_EQ(PortOf(sink.Get(Kind::Service, "s99")), 8080);
  EXPECT_EQ(sink.Names(Kind::Service).size(), 100u);
  // Rewritten byte for byte (new inode): read again, nothing sent.
  sink.ResetCounts();
  Write("b.yaml", b);
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(src.reloads(), 3u);
  EXPECT_EQ(src.last_fed_objects(), 0u);
  EXPECT_EQ(sink.batches_, 0);
}

TEST_F(ManifestsSourceTest, AddedAndDeletedFilesSendTheirObjects) {
  Write("a.yaml", Many(0, 10));
  RecordingSink sink;
  ManifestsSource src(dir_, &sink);
  ASSERT_TRUE(src.LoadOnce().ok());
  sink.ResetCounts();
  Write("b.yaml", Many(10, 3));
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(sink.upserts_, 3);
  EXPECT_EQ(sink.Names(Kind::Service).size(), 13u);
  sink.ResetCounts();
  ASSERT_EQ(std::remove((dir_ + "/a.yaml").c_str()), 0);
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(sink.removes_, 10);
  EXPECT_EQ(sink.upserts_, 0);
  EXPECT_EQ(sink.Names(Kind::Service), (std::vector<std::string>{"s10", "s11", "s12"}));
}

TEST_F(ManifestsSourceTest, RenamedFileSendsNothing) {
  Write("a.yaml", Many(0, 10));
  RecordingSink sink;
  ManifestsSource src(dir_, &sink);
  ASSERT_TRUE(src.LoadOnce().ok());
  sink.ResetCounts();
  ASSERT_EQ(std::rename((dir_ + "/a.yaml").c_str(), (dir_ + "/z.yaml").c_str()), 0);
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(src.reloads(), 2u);           // the folder changed...
  EXPECT_EQ(src.last_fed_objects(), 0u);  // ...the objects did not
  EXPECT_EQ(sink.upserts_ + sink.removes_ + sink.replaces_, 0);
  EXPECT_EQ(sink.Names(Kind::Service).size(), 10u);
}

TEST_F(ManifestsSourceTest, FileTurningInvalidIsReportedAndBlocksNothingElse) {
  Write("a.yaml", Many(0, 5));
  Write("b.yaml", Svc("b"));
  RecordingSink sink;
  ManifestsSource src(dir_, &sink);
  ASSERT_TRUE(src.LoadOnce().ok());
  sink.ResetCounts();
  // In the same scan: a.yaml breaks, b.yaml changes, c.yaml appears.
  Write("a.yaml", Many(0, 4) + "---\nkind: Service\nmetadata: {name: [unclosed\n");
  Write("b.yaml", Svc("b", 9090));
  Write("c.yaml", Svc("c"));
  ASSERT_TRUE(src.LoadOnce().ok());
  ASSERT_EQ(src.FileErrors().size(), 1u);
  EXPECT_NE(src.FileErrors().at("a.yaml").find("line"), std::string::npos) << src.FileErrors().at("a.yaml");
  EXPECT_EQ(sink.upserts_, 2);  // b changed, c added; a.yaml's last good objects stay untouched
  EXPECT_EQ(sink.removes_, 0);
  EXPECT_EQ(PortOf(sink.Get(Kind::Service, "b")), 9090);
  EXPECT_EQ(sink.Names(Kind::Service), (std::vector<std::string>{"b", "c", "s0", "s1", "s2", "s3", "s4"}));
  // Fixed (one object fewer): the error clears and only the dropped object goes.
  sink.ResetCounts();
  Write("a.yaml", Many(0, 4));
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_TRUE(src.FileErrors().empty());
  EXPECT_EQ(sink.removes_, 1);
  EXPECT_EQ(sink.upserts_, 0);
}

TEST_F(ManifestsSourceTest, DuplicateFallsBackToTheNextFileWhenTheWinnerGoes) {
  Write("a.yaml", Svc("same", 1001));
  Write("b.yaml", Svc("same", 1002));
  RecordingSink sink;
  ManifestsSource src(dir_, &sink);
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(PortOf(sink.Get(Kind::Service, "same")), 1001);
  Write("b.yaml", Svc("same", 1003));  // the loser changes: nothing visible changes
  sink.ResetCounts();
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(sink.upserts_ + sink.removes_, 0);
  ASSERT_EQ(std::remove((dir_ + "/a.yaml").c_str()), 0);
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(sink.upserts_, 1);
  EXPECT_EQ(sink.removes_, 0);
  EXPECT_EQ(PortOf(sink.Get(Kind::Service, "same")), 1003);
}

TEST_F(ManifestsSourceTest, BatchReachesTheStoreAsOneChangePerKind) {
  Write("a.yaml", Many(0, 20));
  Store st;
  std::mutex mu;
  std::vector<Kind> calls;
  st.SetChangeCallback([&](Kind k) {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(k);
  });
  ManifestsSource src(dir_, &st);
  ASSERT_TRUE(src.LoadOnce().ok());
  StoreChanges drained;
  (void)st.View(&drained);
  calls.clear();
  Write("a.yaml", Many(5, 20));  // s0..s4 go, s20..s24 come
  ASSERT_TRUE(src.LoadOnce().ok());
  EXPECT_EQ(src.last_fed_objects(), 10u);
  EXPECT_EQ(calls, std::vector<Kind>{Kind::Service});
  StoreView v = st.View(&drained);
  EXPECT_TRUE(drained.Has(Kind::Service));
  EXPECT_FALSE(drained.Has(Kind::Ingress));
  EXPECT_EQ(v.services().size(), 20u);
  EXPECT_EQ(v.FindService({"default", "s0"}), nullptr);
  EXPECT_NE(v.FindService({"default", "s24"}), nullptr);
}

TEST_F(ManifestsSourceTest, PollingSeesChangesIntoARealStore) {
  Write("app.yaml", Svc("web"));
  Store st;
  ManifestsSource src(dir_, &st, ManifestsSource::Options{std::chrono::milliseconds(20)});
  ASSERT_TRUE(src.Start().ok());
  EXPECT_NE(st.View().FindService({"default", "web"}), nullptr);
  const uint64_t before = src.reloads();
  Write("app.yaml", Svc("api"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (src.reloads() == before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  src.Stop();
  StoreView v = st.View();
  EXPECT_EQ(v.FindService({"default", "web"}), nullptr);
  EXPECT_NE(v.FindService({"default", "api"}), nullptr);
}

TEST_F(ManifestsSourceTest, MissingFolderFails) {
  RecordingSink sink;
  ManifestsSource src(dir_ + "/nope", &sink);
  EXPECT_FALSE(src.LoadOnce().ok());
  EXPECT_FALSE(src.Start().ok());
}

}  // namespace
}  // namespace keel::store
