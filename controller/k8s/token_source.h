// TokenSource: the bearer token for API requests. Projected service-account tokens
// rotate (kubelet rewrites the file well before expiry), so a file-backed token is
// re-read at most every `refresh` (client-go's cachingTokenSource uses one minute)
// and at once after the server answered 401.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace keel::k8s {

class TokenSource {
 public:
  using Clock = std::chrono::steady_clock;

  // `file` empty: always `static_token` (possibly empty: no Authorization header).
  TokenSource(std::string static_token, std::string file,
              std::chrono::milliseconds refresh = std::chrono::minutes(1));

  // The token to send now. Re-reads the file when `refresh` has passed; if the file
  // cannot be read, keeps the last good token.
  std::string Get();

  // The server rejected `rejected` with 401: re-read the file now. True when a
  // different token is now available (the request is worth retrying once).
  bool RefreshAfterUnauthorized(const std::string& rejected);

  bool file_backed() const { return !file_.empty(); }

 private:
  void ReadLocked();

  std::mutex mu_;
  std::string token_;
  const std::string file_;
  const std::chrono::milliseconds refresh_;
  Clock::time_point last_read_{};
  bool read_once_ = false;
};

}  // namespace keel::k8s
