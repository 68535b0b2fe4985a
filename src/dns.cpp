// loop.getaddrinfo / loop.getnameinfo on libuv's resolver (its thread pool):
// the loop thread never blocks on a name lookup.
#include <netdb.h>
#include <sys/socket.h>
#include <uv.h>

#include <ostream>

#include "asyncio/events.hpp"
#include "asyncio/repr.hpp"
#include "asyncio/exceptions.hpp"
#include "sockaddr.hpp"
#include "uv_handle.hpp"

namespace asyncio {

namespace {

struct GetAddrInfoReq {
  uv_getaddrinfo_t req;
  Future<std::vector<AddrInfo>> result;
};

void on_getaddrinfo(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  std::unique_ptr<GetAddrInfoReq> r(static_cast<GetAddrInfoReq*>(req->data));
  if (r->result.done()) {  // the awaiting task was cancelled
    uv_freeaddrinfo(res);
    return;
  }
  if (status != 0) {
    r->result.set_exception(detail::uv_error(status));
    return;
  }
  std::vector<AddrInfo> out;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    AddrInfo info;
    info.family = a->ai_family;
    info.type = a->ai_socktype;
    info.proto = a->ai_protocol;
    if (a->ai_canonname != nullptr) info.canonname = a->ai_canonname;
    info.sockaddr = detail::to_address(a->ai_addr, a->ai_addrlen);
    out.push_back(std::move(info));
  }
  uv_freeaddrinfo(res);
  r->result.set_result(std::move(out));
}

struct GetNameInfoReq {
  uv_getnameinfo_t req;
  Future<std::pair<std::string, std::string>> result;
};

}  // namespace

Coro<std::vector<AddrInfo>> EventLoop::getaddrinfo(std::string host, std::string port, int family, int type,
                                                   int proto, int flags) {
  auto* r = new GetAddrInfoReq{{}, create_future<std::vector<AddrInfo>>()};
  auto result = r->result;
  r->req.data = r;
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = type;
  hints.ai_protocol = proto;
  hints.ai_flags = flags;
  int rc = uv_getaddrinfo(uv_loop(), &r->req, &on_getaddrinfo, host.empty() ? nullptr : host.c_str(),
                          port.empty() ? nullptr : port.c_str(), &hints);
  if (rc != 0) {
    delete r;
    std::rethrow_exception(detail::uv_error(rc));
  }
  co_return co_await result;
}

Coro<std::vector<AddrInfo>> EventLoop::getaddrinfo(std::string host, int port, int family, int type, int proto,
                                                   int flags) {
  co_return co_await getaddrinfo(std::move(host), std::to_string(port), family, type, proto, flags);
}

Coro<std::pair<std::string, std::string>> EventLoop::getnameinfo(SocketAddress sockaddr, int flags) {
  sockaddr_storage ss;
  detail::to_sockaddr(sockaddr, ss);
  auto* r = new GetNameInfoReq{{}, create_future<std::pair<std::string, std::string>>()};
  auto result = r->result;
  r->req.data = r;
  int rc = uv_getnameinfo(
      uv_loop(), &r->req,
      [](uv_getnameinfo_t* req, int status, const char* host, const char* service) {
        std::unique_ptr<GetNameInfoReq> r(static_cast<GetNameInfoReq*>(req->data));
        if (r->result.done()) return;
        if (status != 0) {
          r->result.set_exception(detail::uv_error(status));
        } else {
          r->result.set_result(std::pair<std::string, std::string>(host, service));
        }
      },
      reinterpret_cast<const struct sockaddr*>(&ss), flags);
  if (rc != 0) {
    delete r;
    std::rethrow_exception(detail::uv_error(rc));
  }
  co_return co_await result;
}

std::ostream& operator<<(std::ostream& os, const AddrInfo& a) {
  auto family = [](int f) -> std::string {
    switch (f) {
      case AF_INET: return "<AddressFamily.AF_INET: 2>";
      case AF_INET6: return "<AddressFamily.AF_INET6: 10>";
      case AF_UNIX: return "<AddressFamily.AF_UNIX: 1>";
    }
    return std::to_string(f);
  };
  auto kind = [](int t) -> std::string {
    switch (t) {
      case SOCK_STREAM: return "<SocketKind.SOCK_STREAM: 1>";
      case SOCK_DGRAM: return "<SocketKind.SOCK_DGRAM: 2>";
      case SOCK_RAW: return "<SocketKind.SOCK_RAW: 3>";
    }
    return std::to_string(t);
  };
  return os << "(" << family(a.family) << ", " << kind(a.type) << ", " << a.proto << ", "
            << detail::py_str_repr(a.canonname) << ", " << a.sockaddr << ")";
}

}  // namespace asyncio
