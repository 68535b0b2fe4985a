// Twin of getaddrinfo.py: loop.getaddrinfo resolves without blocking the loop
// (libuv runs the lookup in its thread pool). IPv4 only, so the output does
// not depend on whether "localhost" also has an IPv6 address here.
#include <netdb.h>
#include <sys/socket.h>

#include <asyncio/asyncio.hpp>
#include <fmt/core.h>
#include <fmt/ostream.h>

#include <sstream>

std::string str(const asyncio::SocketAddress& a) {
  std::ostringstream os;
  os << a;
  return os.str();
}

asyncio::Coro<> main_() {
  auto& loop = asyncio::get_running_loop();
  auto infos = co_await loop.getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM);
  for (const auto& info : infos) {
    fmt::print("{} {} {} '{}' {}\n", info.family == AF_INET ? "AF_INET" : "AF_INET6",
               info.type == SOCK_STREAM ? "SOCK_STREAM" : "SOCK_DGRAM", info.proto, info.canonname,
               str(info.sockaddr));
  }
  asyncio::SocketAddress addr{.host = "127.0.0.1", .port = 80};
  auto [host, port] = co_await loop.getnameinfo(addr, NI_NUMERICHOST | NI_NUMERICSERV);
  fmt::print("{} {}\n", host, port);
}

int main() { asyncio::run(main_()); }
