// Socket addresses: sockaddr <-> SocketAddress, and their Python reprs.
#include "sockaddr.hpp"

#include <arpa/inet.h>
#include <sys/un.h>

#include <cstring>
#include <sstream>
#include <type_traits>
#include <variant>

#include "asyncio/exceptions.hpp"
#include "asyncio/repr.hpp"
#include "asyncio/ssl.hpp"

namespace asyncio {

std::ostream& operator<<(std::ostream& os, const SocketAddress& a) {
  if (a.is_unix()) return os << detail::py_str_repr(a.host);
  os << "(" << detail::py_str_repr(a.host) << ", " << a.port;
  if (a.family == AF_INET6) os << ", " << a.flowinfo << ", " << a.scope_id;
  return os << ")";
}

std::string SocketAddress::repr() const {
  std::ostringstream os;
  os << *this;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const ExtraInfo& e) {
  std::visit(
      [&os](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate>) {
          os << "None";
        } else if constexpr (std::is_same_v<V, SocketAddress> || std::is_same_v<V, int>) {
          os << v;
        } else {
          os << *v;  // the TLS values of ssl.hpp
        }
      },
      e.v_);
  return os;
}

namespace detail {

SocketAddress to_address(const sockaddr* sa, socklen_t len) {
  SocketAddress a;
  a.family = sa->sa_family;
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    a.host = buf;
    a.port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    a.host = buf;
    a.port = ntohs(in6->sin6_port);
    a.flowinfo = ntohl(in6->sin6_flowinfo);
    a.scope_id = in6->sin6_scope_id;
  } else if (sa->sa_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(sa);
    std::size_t max = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    a.host.assign(un->sun_path, strnlen(un->sun_path, std::min(max, sizeof un->sun_path)));
    a.port = -1;
  }
  return a;
}

socklen_t to_sockaddr(const SocketAddress& a, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (a.is_unix()) {
    auto* un = reinterpret_cast<sockaddr_un*>(&out);
    if (a.host.size() >= sizeof un->sun_path) throw ValueError("AF_UNIX path too long");
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, a.host.data(), a.host.size());
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + a.host.size() + 1);
  }
  if (a.port > 65535) throw std::overflow_error("getsockaddrarg: port must be 0-65535.");
  auto* in = reinterpret_cast<sockaddr_in*>(&out);
  if (a.family != AF_INET6 && inet_pton(AF_INET, a.host.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<std::uint16_t>(a.port));
    return sizeof(sockaddr_in);
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, a.host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<std::uint16_t>(a.port));
    in6->sin6_flowinfo = htonl(a.flowinfo);
    in6->sin6_scope_id = a.scope_id;
    return sizeof(sockaddr_in6);
  }
  throw ValueError("not a numeric address: " + py_str_repr(a.host));
}

namespace {

template <class Fn>
std::optional<SocketAddress> query(Fn fn) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (fn(reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  return to_address(reinterpret_cast<sockaddr*>(&ss), static_cast<socklen_t>(len));
}

}  // namespace

std::optional<SocketAddress> tcp_address(const uv_tcp_t* h, bool peer) {
  return query([&](sockaddr* sa, int* len) {
    return peer ? uv_tcp_getpeername(h, sa, len) : uv_tcp_getsockname(h, sa, len);
  });
}

std::optional<SocketAddress> udp_address(const uv_udp_t* h, bool peer) {
  return query([&](sockaddr* sa, int* len) {
    return peer ? uv_udp_getpeername(h, sa, len) : uv_udp_getsockname(h, sa, len);
  });
}

std::optional<SocketAddress> pipe_address(const uv_pipe_t* h, bool peer) {
  char buf[256];
  std::size_t len = sizeof buf;
  int rc = peer ? uv_pipe_getpeername(h, buf, &len) : uv_pipe_getsockname(h, buf, &len);
  if (rc != 0) return std::nullopt;
  SocketAddress a;
  a.host.assign(buf, len);
  a.family = AF_UNIX;
  return a;
}

}  // namespace detail
}  // namespace asyncio
