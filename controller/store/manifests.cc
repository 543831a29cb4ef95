// ManifestsSource: folder scan, per-file parse with last-good fallback, polling thread.
#include "controller/store/manifests.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "common/log.h"
#include "controller/store/yaml_json.h"

namespace keel::store {
namespace {

using nlohmann::json;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::optional<ManifestFormat> FormatOf(std::string_view name) {
  if (EndsWith(name, ".yaml") || EndsWith(name, ".yml")) return ManifestFormat::kYaml;
  if (EndsWith(name, ".json")) return ManifestFormat::kJson;
  return std::nullopt;
}

std::string StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return (it != obj.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

// Adds `doc` (one object or a list) to `out`. `list_kind` / `list_api` are the enclosing
// typed list's item kind and apiVersion, used when an item omits its own.
void AddDocument(json doc, size_t index, const std::string& list_kind, const std::string& list_api,
                 ManifestFile* out) {
  if (doc.is_null()) return;  // empty document ("---" twice)
  if (!doc.is_object()) {
    out->warnings.push_back("document " + std::to_string(index + 1) + " is not an object");
    return;
  }
  std::string api = StringField(doc, "apiVersion");
  std::string kind = StringField(doc, "kind");
  if (kind.empty()) kind = list_kind;
  if (api.empty()) api = list_api;
  if (kind.empty()) {
    out->warnings.push_back("document " + std::to_string(index + 1) + " has no kind");
    return;
  }
  if (EndsWith(kind, "List")) {
    auto items = doc.find("items");
    if (items == doc.end() || !items->is_array()) {
      out->warnings.push_back("document " + std::to_string(index + 1) + ": " + kind + " without items");
      return;
    }
    std::string item_kind = kind == "List" ? std::string() : kind.substr(0, kind.size() - 4);
    for (json& item : *items)
      AddDocument(std::move(item), index, item_kind, item_kind.empty() ? "" : api, out);
    return;
  }
  std::optional<Kind> k = KindFor(api, kind);
  if (!k) return;  // a kind we do not read
  if (*k != Kind::IngressClass) {
    auto meta = doc.find("metadata");
    if (meta != doc.end() && meta->is_object()) {
      auto ns = meta->find("namespace");
      if (ns == meta->end() || ns->is_null() || (ns->is_string() && ns->get<std::string>().empty())) {
        (*meta)["namespace"] = "default";
      }
    }
  }
  out->objects.push_back({*k, std::move(doc)});
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open"};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{"read error"};
  return ss.str();
}

}  // namespace

std::optional<Kind> KindFor(std::string_view api_version, std::string_view kind) {
  if (api_version == "networking.k8s.io/v1") {
    if (kind == "Ingress") return Kind::Ingress;
    if (kind == "IngressClass") return Kind::IngressClass;
  } else if (api_version == "v1") {
    if (kind == "Service") return Kind::Service;
    if (kind == "Secret") return Kind::Secret;
  } else if (api_version == "discovery.k8s.io/v1") {
    if (kind == "EndpointSlice") return Kind::EndpointSlice;
  }
  return std::nullopt;
}

Result<ManifestFile> ParseManifestText(std::string_view text, ManifestFormat format) {
  ManifestFile out;
  std::vector<json> docs;
  if (format == ManifestFormat::kJson) {
    json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return Error{"invalid JSON"};
    docs.push_back(std::move(doc));
  } else {
    Result<std::vector<json>> parsed = YamlToJsonDocuments(text);
    if (!parsed.ok()) return Error{parsed.error()};
    docs = std::move(parsed.value());
  }
  for (size_t i = 0; i < docs.size(); ++i) AddDocument(std::move(docs[i]), i, "", "", &out);
  return out;
}

ManifestsSource::ManifestsSource(std::string dir, ObjectSink* sink)
    : ManifestsSource(std::move(dir), sink, Options{}) {}

ManifestsSource::ManifestsSource(std::string dir, ObjectSink* sink, Options options)
    : dir_(std::move(dir)), sink_(sink), options_(options) {}

ManifestsSource::~ManifestsSource() { Stop(); }

Status ManifestsSource::LoadOnce() {
  std::lock_guard<std::mutex> lock(scan_mu_);
  DIR* d = opendir(dir_.c_str());
  if (d == nullptr) return Error{"cannot list manifests folder " + dir_};
  std::set<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.' || !FormatOf(name)) continue;
    names.insert(name);
  }
  closedir(d);

  bool changed = !fed_once_;
  std::set<Key> touched;
  for (auto it = files_.begin(); it != files_.end();) {
    if (names.count(it->first) == 0) {
      SetObjects(it->first, &it->second, {}, &touched);
      it = files_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  for (const std::string& name : names) {
    const std::string path = dir_ + "/" + name;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    FileState& f = files_[name];
    int64_t mtime = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    if (f.mtime_ns == mtime && f.size == st.st_size && f.inode == st.st_ino) continue;
    f.mtime_ns = mtime;
    f.size = st.st_size;
    f.inode = st.st_ino;
    changed = true;
    Result<std::string> text = ReadFile(path);
    Result<ManifestFile> parsed = text.ok() ? ParseManifestText(text.value(), *FormatOf(name))
                                            : Result<ManifestFile>(Error{text.error()});
    if (!parsed.ok()) {
      f.error = parsed.error();
      KEEL_LOG(Error, "manifests") << path << ": " << f.error
                                   << (f.objects.empty() ? "" : " (keeping its last good objects)");
      continue;
    }
    f.error.clear();
    for (const std::string& w : parsed->warnings) {
      KEEL_LOG(Warn, "manifests") << path << ": " << w;
    }
    Objects objects;
    for (ManifestObject& o : parsed->objects) {
      Key key{o.kind, "", ""};
      if (auto m = o.object.find("metadata"); m != o.object.end() && m->is_object()) {
        key = {o.kind, StringField(*m, "namespace"), StringField(*m, "name")};
      }
      auto [it, inserted] = objects.try_emplace(key);
      if (!inserted) {
        KEEL_LOG(Warn, "manifests") << name << ": duplicate " << KindName(o.kind) << " " << std::get<1>(key)
                                    << "/" << std::get<2>(key) << " ignored (an earlier document defines it)";
        continue;
      }
      it->second = std::make_shared<const json>(std::move(o.object));
    }
    SetObjects(name, &f, std::move(objects), &touched);
  }
  if (!changed) return Status::Ok();

  uint64_t fed = 0;
  if (!fed_once_) {
    std::map<Kind, std::vector<json>> by_kind;
    for (const auto& [key, owners] : owners_) {
      std::shared_ptr<const json> w = Winner(key);
      by_kind[std::get<0>(key)].push_back(*w);
      fed_[key] = std::move(w);
      ++fed;
    }
    for (Kind k : kAllKinds) sink_->Replace(k, by_kind[k]);
    fed_once_ = true;
  } else {
    std::vector<SinkChange> batch;
    for (const Key& key : touched) {
      std::shared_ptr<const json> w = Winner(key);
      auto it = fed_.find(key);
      if (it == fed_.end() ? w == nullptr : (w && (w == it->second || *w == *it->second))) continue;
      batch.push_back({std::get<0>(key), w, std::get<1>(key), std::get<2>(key)});
      if (w) {
        fed_[key] = std::move(w);
      } else {
        fed_.erase(it);
      }
    }
    fed = batch.size();
    if (!batch.empty()) sink_->Apply(batch);
  }
  last_fed_.store(fed);
  reloads_.fetch_add(1);
  return Status::Ok();
}

void ManifestsSource::SetObjects(const std::string& name, FileState* f, Objects objects,
                                 std::set<Key>* touched) {
  for (const auto& [key, _] : f->objects) {
    touched->insert(key);
    auto it = owners_.find(key);
    if (it == owners_.end()) continue;
    it->second.erase(name);
    if (it->second.empty()) owners_.erase(it);
  }
  for (const auto& [key, _] : objects) {
    touched->insert(key);
    std::set<std::string>& owners = owners_[key];
    owners.insert(name);
    if (owners.size() > 1) {
      std::string files;
      for (const std::string& o : owners) files += (files.empty() ? "" : ", ") + o;
      KEEL_LOG(Warn, "manifests") << "duplicate " << KindName(std::get<0>(key)) << " " << std::get<1>(key)
                                  << "/" << std::get<2>(key) << " in " << files << ": only "
                                  << *owners.begin() << "'s is used (first in name order)";
    }
  }
  f->objects = std::move(objects);
}

std::shared_ptr<const json> ManifestsSource::Winner(const Key& key) const {
  auto it = owners_.find(key);
  if (it == owners_.end()) return nullptr;
  // Owners are in name order: the first file that still defines the key wins.
  for (const std::string& name : it->second) {
    auto f = files_.find(name);
    if (f == files_.end()) continue;
    auto o = f->second.objects.find(key);
    if (o != f->second.objects.end()) return o->second;
  }
  return nullptr;
}

Status ManifestsSource::Start() {
  Status first = LoadOnce();
  if (!first.ok()) return first;
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void ManifestsSource::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ManifestsSource::Run() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, options_.poll_interval, [this] { return stopping_; })) {
    lock.unlock();
    Status s = LoadOnce();
    if (!s.ok()) {
      KEEL_LOG(Warn, "manifests") << s.error();
    }
    lock.lock();
  }
}

std::map<std::string, std::string> ManifestsSource::FileErrors() const {
  std::lock_guard<std::mutex> lock(scan_mu_);
  std::map<std::string, std::string> out;
  for (const auto& [name, f] : files_) {
    if (!f.error.empty()) out[name] = f.error;
  }
  return out;
}

}  // namespace keel::store
