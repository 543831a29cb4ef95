// The manifests-folder source (`--manifests DIR`): every *.yaml, *.yml and *.json file
// in a folder, fed to an ObjectSink as if it were the API. For local runs and tests.
//
// - Multi-document YAML (`---`), `kind: List` and typed lists (`IngressList`, as
//   `kubectl get -o json` prints them) are flattened.
// - Only the kinds we read are kept (matched on apiVersion + kind); others are ignored.
// - Namespaced objects without metadata.namespace get "default".
// - Reload: the folder is polled (default every 1 s) comparing each file's (mtime,
//   size, inode). Polling rather than inotify because the common deployment is a
//   ConfigMap volume, which is updated by swapping a `..data` symlink: inotify on the
//   files misses that, a stat() that follows the symlink does not. Hidden entries
//   (".…", which includes ConfigMap's `..data` folders) are skipped; no recursion.
// - Incremental: only files whose (mtime, size, inode) changed are read and parsed;
//   each file's parsed objects are kept. The first scan Replace()s every kind; later
//   scans send the sink only the objects that differ from what it was last given (one
//   Apply() batch), so one edited file among 10k objects costs that file, not the
//   folder (bench scenario 6). A renamed file whose objects did not change sends
//   nothing.
// - A file that fails to parse keeps its last good objects (the way a failed `kubectl
//   apply` leaves the cluster as it was) and its error is logged once per change; the
//   other files load normally. A deleted file's objects go away.
// - The same kind/namespace/name in two files: the first file in name order wins.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "common/result.h"
#include "controller/store/sink.h"

namespace keel::store {

// The kind we read for (apiVersion, kind), e.g. ("networking.k8s.io/v1", "Ingress").
std::optional<Kind> KindFor(std::string_view api_version, std::string_view kind);

enum class ManifestFormat { kYaml, kJson };

struct ManifestObject {
  Kind kind;
  nlohmann::json object;
};

struct ManifestFile {
  std::vector<ManifestObject> objects;
  // Documents skipped for a reason worth telling (no kind, not an object, ...).
  std::vector<std::string> warnings;
};

// Parses one file's text. Fails only when the text itself does not parse.
Result<ManifestFile> ParseManifestText(std::string_view text, ManifestFormat format);

class ManifestsSource {
 public:
  struct Options {
    std::chrono::milliseconds poll_interval{1000};
  };

  ManifestsSource(std::string dir, ObjectSink* sink);
  ManifestsSource(std::string dir, ObjectSink* sink, Options options);
  ~ManifestsSource();
  ManifestsSource(const ManifestsSource&) = delete;
  ManifestsSource& operator=(const ManifestsSource&) = delete;

  // Scans the folder once; the first time feeds the sink with Replace() for every
  // kind, later only with the objects that changed (Apply()). Fails only when the
  // folder cannot be listed.
  Status LoadOnce();
  // LoadOnce(), then a polling thread until Stop(). Fails if the first scan fails.
  Status Start();
  void Stop();

  // Completed scans that saw a changed file (a test waits on this after touching one).
  uint64_t reloads() const { return reloads_.load(); }
  // Objects sent to the sink by the latest such scan (upserts + removals; the first
  // scan counts every object it replaced with).
  uint64_t last_fed_objects() const { return last_fed_.load(); }
  // Files whose latest version failed to parse → error message.
  std::map<std::string, std::string> FileErrors() const;

 private:
  // (kind, namespace, name) of an object: the identity the sink keys on.
  using Key = std::tuple<Kind, std::string, std::string>;
  using Objects = std::map<Key, std::shared_ptr<const nlohmann::json>>;
  struct FileState {
    int64_t mtime_ns = -1;
    int64_t size = -1;
    uint64_t inode = 0;
    Objects objects;    // last good; the first document wins within a file
    std::string error;  // latest parse error, empty when good
  };

  void Run();
  // The object `key` resolves to now (first file in name order, first document in
  // it), or null.
  std::shared_ptr<const nlohmann::json> Winner(const Key& key) const;
  // Replaces `name`'s objects, keeping owners_ in step; adds every key it touched.
  void SetObjects(const std::string& name, FileState* f, Objects objects, std::set<Key>* touched);

  const std::string dir_;
  ObjectSink* const sink_;
  const Options options_;
  mutable std::mutex scan_mu_;  // one scan at a time; guards files_
  std::map<std::string, FileState> files_;
  // Which files define each key; and what the sink was last given per key.
  std::map<Key, std::set<std::string>> owners_;
  std::map<Key, std::shared_ptr<const nlohmann::json>> fed_;
  bool fed_once_ = false;
  std::atomic<uint64_t> reloads_{0};
  std::atomic<uint64_t> last_fed_{0};

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace keel::store
