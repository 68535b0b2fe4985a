#pragma once
/// \file server.hpp
/// `Server`: what `create_server` / `start_server` return (CPython
/// `base_events.Server`, `events.AbstractServer`).
///
/// A server listens on one or more sockets and makes a transport and a
/// protocol for each connection it accepts.
///
/// ```cpp
/// auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 8888);
/// std::cout << "Serving on " << server->sockets()[0] << "\n";
/// co_await server->async_with([&](asyncio::Server& s) { return s.serve_forever(); });
/// ```
///
/// `async with server:` maps to `co_await server->async_with(body)`: `body`
/// (a callable taking `Server&`, or an awaitable) runs, then the server is
/// closed and `wait_closed()` awaited, however the body ended.
///
/// Semantics (3.12+, where wait_closed was fixed to wait for the connections):
/// - `close()` stops listening at once; connections stay open.
/// - `wait_closed()` returns once the server is closed and every connection it
///   accepted is gone (returns at once when already so).
/// - `close_clients()` / `abort_clients()` (3.13) close / abort every
///   connection it accepted.
/// - While listening the server keeps itself alive: dropping the last
///   shared_ptr does not stop it; close() does.
/// - Accept errors: running out of descriptors (EMFILE/ENFILE) is reported
///   through the loop's exception handler ("socket.accept() out of system
///   resource") and the server keeps serving; libuv drops the connection it
///   could not accept.
///
/// `sockets()` gives the listening addresses (Python gives socket objects;
/// `s.getsockname()` is what code uses them for); `fds()` the descriptors.
///
/// Thread safety: on the loop's thread only.
#include <memory>
#include <ostream>
#include <vector>

#include "asyncio/coroutines.hpp"
#include "asyncio/detail/awaitable.hpp"
#include "asyncio/events.hpp"
#include "asyncio/transports.hpp"

namespace asyncio {

namespace detail {
struct ServerState;
}

class Server : public std::enable_shared_from_this<Server> {
 public:
  explicit Server(std::unique_ptr<detail::ServerState> state);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  EventLoop& get_loop() const;
  /// True while accepting connections.
  bool is_serving() const;
  /// Starts accepting (no-op when already serving; RuntimeError when closed).
  [[nodiscard]] Coro<void> start_serving();
  /// Starts accepting and waits until close() (or cancellation, which closes
  /// the server and waits for it, as CPython's). RuntimeError when called twice.
  [[nodiscard]] Coro<void> serve_forever();
  /// Stops listening; idempotent.
  void close();
  /// Waits until closed with no connection left.
  [[nodiscard]] Coro<void> wait_closed();
  /// close() on every accepted transport (3.13).
  void close_clients();
  /// abort() on every accepted transport (3.13).
  void abort_clients();
  /// The addresses listened on (empty once closed).
  std::vector<SocketAddress> sockets() const;
  /// The listening descriptors (empty once closed).
  std::vector<int> fds() const;

  /// `async with server: body`: runs `body`, then close() and wait_closed().
  template <class Body>
  Coro<void> async_with(Body body);

  /// `<Server sockets=(('127.0.0.1', 8888),)>`.
  friend std::ostream& operator<<(std::ostream& os, const Server& s);

  detail::ServerState& state() const noexcept { return *state_; }

 private:
  Coro<void> exit_async_with();
  std::unique_ptr<detail::ServerState> state_;
};

template <class Body>
Coro<void> Server::async_with(Body body) {
  auto self = shared_from_this();
  std::exception_ptr exc;
  try {
    Server& s = *this;
    co_await detail::start_body(body, s);
  } catch (...) {
    exc = std::current_exception();
  }
  co_await exit_async_with();
  if (exc) std::rethrow_exception(exc);
}

}  // namespace asyncio
