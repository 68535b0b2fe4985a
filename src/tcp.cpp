// TCP: loop.create_connection and loop.create_server (uvloop handles/tcp.pyx;
// CPython base_events.create_connection / create_server).
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "asyncio/exceptions.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/server.hpp"
#include "asyncio/tasks.hpp"
#include "server_state.hpp"
#include "sockaddr.hpp"
#include "sslproto.hpp"
#include "stream_transport.hpp"

namespace asyncio {

namespace detail {

namespace {

struct ConnectReq {
  uv_connect_t req;
  Future<int> status;
};

/// A numeric host needs no lookup (CPython base_events._ipaddr_info).
std::optional<SocketAddress> numeric(const std::string& host, int port) {
  in6_addr buf;
  SocketAddress a;
  a.host = host;
  a.port = port;
  if (inet_pton(AF_INET, host.c_str(), &buf) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (inet_pton(AF_INET6, host.c_str(), &buf) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

}  // namespace

/// Connects a new TCP handle to `addr`; OSError "Connect call failed <addr>".
Coro<UvHandle> tcp_connect(EventLoop& loop, SocketAddress addr) {
  sockaddr_storage ss;
  to_sockaddr(addr, ss);
  UvHandle h = UvHandle::make("tcp");
  if (int rc = uv_tcp_init(loop.uv_loop(), h.tcp()); rc != 0) std::rethrow_exception(uv_error(rc));
  h.initialized(nullptr);
  auto* req = new ConnectReq{{}, loop.create_future<int>()};
  Future<int> status = req->status;
  int rc = uv_tcp_connect(&req->req, h.tcp(), reinterpret_cast<sockaddr*>(&ss), [](uv_connect_t* r, int st) {
    std::unique_ptr<ConnectReq> c(reinterpret_cast<ConnectReq*>(r));
    if (!c->status.done()) c->status.set_result(st);
  });
  if (rc != 0) {
    delete req;
    std::rethrow_exception(uv_error(rc, {}, {}));
  }
  int st = co_await status;  // cancelled: `h` closes the handle, libuv cancels the connect
  if (st != 0) {
    std::string msg = "Connect call failed " + addr.repr();
    std::rethrow_exception(uv_error(st, msg));
  }
  uv_tcp_nodelay(h.tcp(), 1);
  co_return h;
}

/// CPython's error when every address failed: the one, or "Multiple exceptions: ...".
[[noreturn]] void raise_connect_errors(const std::vector<std::exception_ptr>& errors) {
  if (errors.size() == 1) std::rethrow_exception(errors[0]);
  std::string first = exception_message(errors[0]);
  bool same = std::all_of(errors.begin(), errors.end(),
                          [&](const std::exception_ptr& e) { return exception_message(e) == first; });
  if (same) std::rethrow_exception(errors[0]);
  std::string msg = "Multiple exceptions: ";
  for (std::size_t i = 0; i < errors.size(); ++i) msg += (i ? ", " : "") + exception_message(errors[i]);
  throw OSError(msg);
}

/// Starts a transport with its protocol and waits for connection_made, or
/// with `tls`, for the TLS handshake (CPython _create_connection_transport).
Coro<EventLoop::Connection<Protocol>> start_connection(EventLoop& loop, UvHandle h, StreamTransport::Kind kind,
                                                       const EventLoop::ProtocolFactory& factory,
                                                       const ConnectionOptions* tls) {
  std::shared_ptr<Protocol> protocol = factory();
  if (!protocol) throw TypeError("protocol_factory returned no protocol");
  auto waiter = loop.create_future<void>();
  std::shared_ptr<Transport> transport;
  if (tls != nullptr) {
    auto ssl_protocol = SSLProtocol::create(loop, protocol, tls->ssl, waiter,
                                            {false, tls->server_hostname, true, tls->ssl_handshake_timeout,
                                             tls->ssl_shutdown_timeout});
    StreamTransport::start(loop, std::move(h), kind, ssl_protocol, {});
    transport = ssl_protocol->app_transport();
  } else {
    transport = StreamTransport::start(loop, std::move(h), kind, protocol, {}, waiter);
  }
  co_await await_or_close(waiter, *transport);
  co_return EventLoop::Connection<Protocol>{std::move(transport), protocol};
}

void check_tls_options(bool ssl, bool server_hostname, bool handshake_timeout, bool shutdown_timeout) {
  if (ssl) return;
  if (server_hostname) throw ValueError("server_hostname is only meaningful with ssl");
  if (handshake_timeout) throw ValueError("ssl_handshake_timeout is only meaningful with ssl");
  if (shutdown_timeout) throw ValueError("ssl_shutdown_timeout is only meaningful with ssl");
}

EventLoop::ProtocolFactory tls_server_factory(EventLoop& loop, EventLoop::ProtocolFactory factory,
                                              const ServerOptions& options) {
  check_tls_options(options.ssl != nullptr, false, options.ssl_handshake_timeout.has_value(),
                    options.ssl_shutdown_timeout.has_value());
  if (!options.ssl) return factory;
  SSLProtocol::Settings settings{true, {}, true, options.ssl_handshake_timeout, options.ssl_shutdown_timeout};
  SSLProtocol::validate(options.ssl, settings);  // now rather than on the first connection
  return [&loop, factory = std::move(factory), ctx = options.ssl, settings]() -> std::shared_ptr<Protocol> {
    std::shared_ptr<Protocol> app = factory();
    if (!app) return nullptr;
    return SSLProtocol::create(loop, std::move(app), ctx, {}, settings);
  };
}

}  // namespace detail

Coro<EventLoop::Connection<Protocol>> EventLoop::create_connection(ProtocolFactory protocol_factory, std::string host,
                                                                   int port, ConnectionOptions options) {
  detail::check_tls_options(options.ssl != nullptr, !options.server_hostname.empty(),
                            options.ssl_handshake_timeout.has_value(), options.ssl_shutdown_timeout.has_value());
  if (options.ssl && options.server_hostname.empty()) {
    if (host.empty()) throw ValueError("You must set server_hostname when using ssl without a host");
    options.server_hostname = host;
  }
  std::vector<SocketAddress> addrs;
  if (auto a = detail::numeric(host, port)) {
    addrs.push_back(*a);
  } else {
    auto infos = co_await getaddrinfo(host, port, 0, SOCK_STREAM);
    for (auto& i : infos) addrs.push_back(i.sockaddr);
    if (addrs.empty()) throw OSError("getaddrinfo() returned empty list");
  }
  std::vector<std::exception_ptr> errors;
  detail::UvHandle h;
  for (const auto& a : addrs) {
    try {
      h = co_await detail::tcp_connect(*this, a);
      break;
    } catch (const OSError&) {
      errors.push_back(std::current_exception());
    }
  }
  if (!h) detail::raise_connect_errors(errors);
  co_return co_await detail::start_connection(*this, std::move(h), detail::StreamTransport::Kind::tcp,
                                              protocol_factory, options.ssl ? &options : nullptr);
}

Coro<std::shared_ptr<Server>> EventLoop::create_server(ProtocolFactory protocol_factory, std::string host, int port,
                                                       ServerOptions options) {
  std::vector<std::string> hosts;
  if (!host.empty()) hosts.push_back(std::move(host));
  co_return co_await create_server(std::move(protocol_factory), std::move(hosts), port, options);
}

Coro<std::shared_ptr<Server>> EventLoop::create_server(ProtocolFactory protocol_factory,
                                                       std::vector<std::string> hosts, int port,
                                                       ServerOptions options) {
  if (port < 0 || port > 65535) throw std::overflow_error("getsockaddrarg: port must be 0-65535.");
  // Every address of every host (no host: all interfaces), without duplicates.
  std::vector<SocketAddress> addrs;
  auto add = [&](SocketAddress a) {
    if (std::find(addrs.begin(), addrs.end(), a) == addrs.end()) addrs.push_back(std::move(a));
  };
  if (hosts.empty()) {
    auto infos = co_await getaddrinfo("", port, 0, SOCK_STREAM, 0, AI_PASSIVE);
    for (auto& i : infos) add(i.sockaddr);
  }
  for (const auto& host : hosts) {
    if (auto a = detail::numeric(host, port)) {
      add(*a);
      continue;
    }
    auto infos = co_await getaddrinfo(host, port, 0, SOCK_STREAM, 0, AI_PASSIVE);
    for (auto& i : infos) add(i.sockaddr);
  }
  auto state = std::make_unique<detail::ServerState>();
  state->loop = this;
  state->factory = detail::tls_server_factory(*this, std::move(protocol_factory), options);
  state->kind = detail::StreamTransport::Kind::tcp;
  state->options = options;
  for (const auto& a : addrs) {
    sockaddr_storage ss;
    detail::to_sockaddr(a, ss);
    detail::UvHandle h = detail::UvHandle::make("tcp");
    if (int rc = uv_tcp_init_ex(uv_loop(), h.tcp(), a.family); rc != 0) std::rethrow_exception(detail::uv_error(rc));
    h.initialized(nullptr, &detail::ServerState::on_leftover);
    uv_os_fd_t fd;
    uv_fileno(h.handle(), &fd);
    // Bound here rather than with uv_tcp_bind, which always sets SO_REUSEADDR:
    // CPython sets it only with reuse_address (its default on POSIX), and
    // IPV6_V6ONLY on IPv6 sockets as libuv's UV_TCP_IPV6ONLY does.
    int one = 1;
    if (options.reuse_address && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
      std::rethrow_exception(os_error(errno));
    if (options.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
      std::rethrow_exception(os_error(errno));
    if (a.family == AF_INET6 && ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
      std::rethrow_exception(os_error(errno));
    socklen_t len = a.family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) std::rethrow_exception(detail::bind_error(-errno, a));
    auto bound = detail::tcp_address(h.tcp(), false);
    state->addresses.push_back(bound ? *bound : a);
    state->listeners.push_back(std::move(h));
  }
  auto server = detail::make_server(std::move(state));
  if (options.start_serving) co_await sleep(std::chrono::seconds(0));
  co_return server;
}

// Plain functions (not coroutines): see events.hpp.
Coro<EventLoop::Connection<Protocol>> EventLoop::create_connection(ProtocolFactory protocol_factory, std::string host,
                                                                   int port) {
  return create_connection(std::move(protocol_factory), std::move(host), port, ConnectionOptions{});
}

Coro<std::shared_ptr<Server>> EventLoop::create_server(ProtocolFactory protocol_factory, std::string host, int port) {
  return create_server(std::move(protocol_factory), std::move(host), port, ServerOptions{});
}

Coro<std::shared_ptr<Server>> EventLoop::create_server(ProtocolFactory protocol_factory,
                                                       std::vector<std::string> hosts, int port) {
  return create_server(std::move(protocol_factory), std::move(hosts), port, ServerOptions{});
}

}  // namespace asyncio
