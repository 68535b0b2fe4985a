#pragma once
// Server's state (private): the listening handles, the accepted transports,
// and what close()/wait_closed() need. tcp.cpp and unix_stream.cpp bind the
// listeners; server.cpp accepts and runs the lifecycle (CPython base_events.Server).
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <unordered_set>
#include <vector>

#include "asyncio/server.hpp"
#include "stream_transport.hpp"
#include "uv_handle.hpp"

namespace asyncio::detail {

struct ServerState {
  EventLoop* loop = nullptr;
  EventLoop::ProtocolFactory factory;
  StreamTransport::Kind kind = StreamTransport::Kind::tcp;
  ServerOptions options;
  std::vector<UvHandle> listeners;         // bound, listening once serving
  std::vector<UvHandle> pollers;           // one uv_poll_t per listener: readable = connections to accept
  TimerHandle accept_retry;                // set while accepting waits for descriptors (1 s)
  std::vector<SocketAddress> addresses;    // what sockets() reports
  std::string unix_path;                   // removed at close (3.13's cleanup_socket)
  std::unordered_set<StreamTransport*> clients;
  std::vector<Future<void>> waiters;       // wait_closed()
  bool waiters_done = false;               // Python's `_waiters is None`
  std::size_t active_count = 0;
  bool serving = false;
  bool closed = false;                     // Python's `_sockets is None`
  Future<void> serving_forever;
  std::shared_ptr<Server> self;            // keeps the server alive while it listens
  Server* server = nullptr;

  void start_serving();
  void attach(const std::shared_ptr<StreamTransport>& t);
  void detach(StreamTransport* t);
  void wakeup();
  /// Accepts what is pending on `listener` (selector_events._accept_connection).
  void accept_pending(std::size_t listener);
  /// What `accept_pending` knows of a connection accepted on `listener` from
  /// `peer` (accept()'s address), so that its transport asks the socket for
  /// no more than the rest.
  StreamTransport::KnownAddresses known_addresses(std::size_t listener, const sockaddr* peer,
                                                  socklen_t peer_len) const;
  /// Stops watching the listeners for ACCEPT_RETRY_DELAY (1 s), as CPython when
  /// accept() runs out of descriptors or memory: the connections stay queued.
  void pause_accepting();
  /// Closes the pollers (before the listeners, whose close closes the descriptors).
  void stop_accepting() noexcept;
  static void on_readable(uv_poll_t* poller, int status, int events);
  static void on_leftover(void* self);
};

/// CPython's bind failure: OSError "error while attempting to bind on address
/// ('127.0.0.1', 8888): address already in use".
std::exception_ptr bind_error(int status, const SocketAddress& addr);

/// Makes the Server around `state` (whose listeners are bound) and starts
/// serving when the options say so.
std::shared_ptr<Server> make_server(std::unique_ptr<ServerState> state);

}  // namespace asyncio::detail
