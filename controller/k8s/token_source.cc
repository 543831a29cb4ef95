// TokenSource implementation.
#include "controller/k8s/token_source.h"

#include "common/log.h"
#include "controller/k8s/config.h"

namespace keel::k8s {

TokenSource::TokenSource(std::string static_token, std::string file, std::chrono::milliseconds refresh)
    : token_(std::move(static_token)), file_(std::move(file)), refresh_(refresh) {}

void TokenSource::ReadLocked() {
  last_read_ = Clock::now();
  read_once_ = true;
  auto content = ReadFile(file_);
  if (!content) {
    KEEL_LOG(Warn, "k8s") << "bearer token: " << content.error() << "; keeping the previous token";
    return;
  }
  std::string t = std::move(content.value());
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty()) {
    KEEL_LOG(Warn, "k8s") << "bearer token file " << file_ << " is empty; keeping the previous token";
    return;
  }
  if (t != token_ && !token_.empty()) {
    KEEL_LOG(Info, "k8s") << "bearer token rotated (" << file_ << ")";
  }
  token_ = std::move(t);
}

std::string TokenSource::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!file_.empty() && (!read_once_ || Clock::now() - last_read_ >= refresh_)) ReadLocked();
  return token_;
}

bool TokenSource::RefreshAfterUnauthorized(const std::string& rejected) {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_.empty()) return false;
  // Another thread may have re-read already: a different token is worth a retry.
  if (token_ == rejected) ReadLocked();
  return token_ != rejected;
}

}  // namespace keel::k8s
