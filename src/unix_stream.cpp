// Unix domain sockets: loop.create_unix_connection and loop.create_unix_server
// on uv_pipe_t (uvloop handles/pipe.pyx; CPython unix_events).
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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
Coro<EventLoop::Connection<Protocol>> start_connection(EventLoop& loop, UvHandle h, StreamTransport::Kind kind,
                                                       const EventLoop::ProtocolFactory& factory,
                                                       const ConnectionOptions* tls);

namespace {

struct PipeConnectReq {
  uv_connect_t req;
  Future<int> status;
};

void check_path(const std::string& path) {
  if (path.empty()) throw ValueError("path must not be empty");
  if (path.size() >= sizeof(sockaddr_un::sun_path)) throw OSError(ENAMETOOLONG, "AF_UNIX path too long", path);
}

}  // namespace
}  // namespace detail

Coro<EventLoop::Connection<Protocol>> EventLoop::create_unix_connection(ProtocolFactory protocol_factory,
                                                                        std::string path, ConnectionOptions options) {
  detail::check_tls_options(options.ssl != nullptr, !options.server_hostname.empty(),
                            options.ssl_handshake_timeout.has_value(), options.ssl_shutdown_timeout.has_value());
  if (options.ssl && options.server_hostname.empty())
    throw ValueError("you have to pass server_hostname when using ssl");
  detail::check_path(path);
  detail::UvHandle h = detail::UvHandle::make("pipe");
  if (int rc = uv_pipe_init(uv_loop(), h.pipe(), 0); rc != 0) std::rethrow_exception(detail::uv_error(rc));
  h.initialized(nullptr);
  auto* req = new detail::PipeConnectReq{{}, create_future<int>()};
  Future<int> status = req->status;
  uv_pipe_connect(&req->req, h.pipe(), path.c_str(), [](uv_connect_t* r, int st) {
    std::unique_ptr<detail::PipeConnectReq> c(reinterpret_cast<detail::PipeConnectReq*>(r));
    if (!c->status.done()) c->status.set_result(st);
  });
  int st = co_await status;
  if (st != 0) std::rethrow_exception(detail::uv_error(st, {}, path));
  co_return co_await detail::start_connection(*this, std::move(h), detail::StreamTransport::Kind::unix_socket,
                                              protocol_factory, options.ssl ? &options : nullptr);
}

Coro<std::shared_ptr<Server>> EventLoop::create_unix_server(ProtocolFactory protocol_factory, std::string path,
                                                            ServerOptions options) {
  detail::check_path(path);
  // CPython: a stale socket file at `path` is removed; any other file is an error.
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
  auto state = std::make_unique<detail::ServerState>();
  state->loop = this;
  state->factory = detail::tls_server_factory(*this, std::move(protocol_factory), options);
  state->kind = detail::StreamTransport::Kind::unix_socket;
  state->options = options;
  detail::UvHandle h = detail::UvHandle::make("pipe");
  if (int rc = uv_pipe_init(uv_loop(), h.pipe(), 0); rc != 0) std::rethrow_exception(detail::uv_error(rc));
  h.initialized(nullptr, &detail::ServerState::on_leftover);
  SocketAddress addr;
  addr.host = path;
  addr.family = AF_UNIX;
  if (int rc = uv_pipe_bind(h.pipe(), path.c_str()); rc != 0) {
    if (rc == UV_EADDRINUSE) {
      // CPython: OSError(errno.EADDRINUSE, f'Address {path!r} is already in use')
      throw OSError(EADDRINUSE, "Address " + addr.repr() + " is already in use");
    }
    std::rethrow_exception(detail::bind_error(rc, addr));
  }
  state->addresses.push_back(addr);
  state->unix_path = path;
  state->listeners.push_back(std::move(h));
  auto server = detail::make_server(std::move(state));
  if (options.start_serving) co_await sleep(std::chrono::seconds(0));
  co_return server;
}

// Plain functions (not coroutines): see events.hpp.
Coro<EventLoop::Connection<Protocol>> EventLoop::create_unix_connection(ProtocolFactory protocol_factory,
                                                                        std::string path) {
  return create_unix_connection(std::move(protocol_factory), std::move(path), ConnectionOptions{});
}

Coro<std::shared_ptr<Server>> EventLoop::create_unix_server(ProtocolFactory protocol_factory, std::string path) {
  return create_unix_server(std::move(protocol_factory), std::move(path), ServerOptions{});
}

}  // namespace asyncio
