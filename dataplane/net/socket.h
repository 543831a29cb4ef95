// Addresses and sockets: "host:port" parsing, SO_REUSEPORT listeners (one per worker,
// so the kernel spreads connections without a shared accept lock), non-blocking connect.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <string_view>

#include "common/result.h"

namespace keel::net {

struct Address {
  sockaddr_storage storage{};
  socklen_t len = 0;
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
  uint16_t port() const;
  // "10.0.0.1:8080" or "[fd00::1]:8080".
  std::string ToString() const;
  // Just the IP literal.
  std::string Ip() const;
};

// "0.0.0.0:8080", "127.0.0.1:0", "[::]:8443", ":8080" (all IPv4 interfaces).
Result<Address> ParseHostPort(std::string_view text);
// An IP literal and a port, as endpoints arrive in snapshots.
Result<Address> MakeAddress(std::string_view ip, uint16_t port);

// A bound, listening, non-blocking socket. With reuse_port every worker binds its own.
Result<int> Listen(const Address& addr, bool reuse_port, int backlog = 4096);
// The address a socket is bound to (to learn the port after binding port 0).
Result<Address> LocalAddress(int fd);
// Starts a non-blocking connect; the fd is writable when it completes (check SO_ERROR).
Result<int> ConnectNonBlocking(const Address& addr);
// SO_ERROR of a socket after a non-blocking connect: 0 on success.
int PendingError(int fd);
void SetNoDelay(int fd);

}  // namespace keel::net
