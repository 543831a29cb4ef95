// ConfigDialer: the dataplane's mutually authenticated config channel without gRPC's
// own TLS (which is OpenSSL and must never share this process with BoringSSL; see
// DEPS.md). Each Dial opens a TCP connection to the controller, runs a BoringSSL
// client handshake (our certificate, the controller's verified against the CA and
// the expected name, ALPN "h2" as gRPC's server demands), then gives gRPC one end of
// a socketpair (CreateCustomInsecureChannelFromFd) and pumps bytes between the other
// end and the TLS connection on a thread of its own. When either side ends, the pump
// closes both, gRPC sees its stream fail, and ConfigClient dials again: a new
// connection per attempt, so reconnects re-handshake and pick up rotated files.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"

namespace grpc {
class Channel;
class ChannelArguments;
}  // namespace grpc

namespace keel::tls {

struct DialerOptions {
  std::string address;                      // controller "host:port"
  std::string cert_file;                    // PEM chain presented to the controller
  std::string key_file;                     // its private key
  std::string ca_file;                      // PEM CA(s) the controller's certificate must chain to
  std::string server_name;                  // expected name (DNS SAN or IP); empty: host of `address`
  std::chrono::milliseconds timeout{5000};  // connect + handshake
};

class ConfigDialer {
 public:
  // Reads and checks the files (key matches certificate, CA parses) once; Dial reads
  // them again per connection so that renewed files are picked up.
  static Result<std::shared_ptr<ConfigDialer>> Create(DialerOptions options);
  ~ConfigDialer();  // stops every pump and joins it

  // A channel over a fresh verified TLS connection, or null (logged) on failure.
  // `args` as ConfigClient::SetChannelArguments prepares them.
  std::shared_ptr<grpc::Channel> Dial(const grpc::ChannelArguments& args);

  // For tests and logs: the error of the last failed Dial.
  std::string last_error() const;

 private:
  struct State;
  explicit ConfigDialer(DialerOptions options);
  std::unique_ptr<State> state_;
};

}  // namespace keel::tls
