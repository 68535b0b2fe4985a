#pragma once
// Socket addresses between libuv/POSIX (sockaddr) and SocketAddress (private).
#include <sys/socket.h>
#include <uv.h>

#include "asyncio/transports.hpp"

namespace asyncio::detail {

/// A sockaddr (AF_INET, AF_INET6, AF_UNIX) as Python's address tuple.
SocketAddress to_address(const sockaddr* sa, socklen_t len = sizeof(sockaddr_storage));
/// A numeric host and port as a sockaddr; ValueError-style RuntimeError if the
/// host is not a numeric IPv4/IPv6 address. Returns the length used.
socklen_t to_sockaddr(const SocketAddress& a, sockaddr_storage& out);
/// getsockname/getpeername of a TCP or UDP handle, or nothing when not connected.
std::optional<SocketAddress> tcp_address(const uv_tcp_t* h, bool peer);
std::optional<SocketAddress> pipe_address(const uv_pipe_t* h, bool peer);
std::optional<SocketAddress> udp_address(const uv_udp_t* h, bool peer);

}  // namespace asyncio::detail
