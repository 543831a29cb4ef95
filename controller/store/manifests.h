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
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
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

  // Scans the folder once; when any file changed since the last scan, feeds the sink
  // with Replace() for every kind. Fails only when the folder cannot be listed.
  Status LoadOnce();
  // LoadOnce(), then a polling thread until Stop(). Fails if the first scan fails.
  Status Start();
  void Stop();

  // Completed scans that fed the sink (a test waits on this after touching a file).
  uint64_t reloads() const { return reloads_.load(); }
  // Files whose latest version failed to parse → error message.
  std::map<std::string, std::string> FileErrors() const;

 private:
  struct FileState {
    int64_t mtime_ns = -1;
    int64_t size = -1;
    uint64_t inode = 0;
    std::vector<ManifestObject> objects;  // last good
    std::string error;                    // latest parse error, empty when good
  };

  void Run();

  const std::string dir_;
  ObjectSink* const sink_;
  const Options options_;
  mutable std::mutex scan_mu_;  // one scan at a time; guards files_
  std::map<std::string, FileState> files_;
  bool fed_once_ = false;
  std::atomic<uint64_t> reloads_{0};

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace keel::store
