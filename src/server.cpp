// Server: accepting connections and the close / wait_closed lifecycle
// (CPython base_events.Server, selector_events._accept_connection).
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <sstream>

#include "asyncio/exceptions.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/tasks.hpp"
#include "server_state.hpp"
#include "sockaddr.hpp"

namespace asyncio {
namespace detail {

std::shared_ptr<Server> make_server(std::unique_ptr<ServerState> state) {
  ServerState* s = state.get();
  auto server = std::make_shared<Server>(std::move(state));
  s->server = server.get();
  s->self = server;
  for (auto& l : s->listeners) l.set_user(s);
  if (s->options.start_serving) s->start_serving();
  return server;
}

std::exception_ptr bind_error(int status, const SocketAddress& addr) {
  // CPython: OSError(err.errno, 'error while attempting to bind on address %r: %s'
  // % (sa, err.strerror.lower())).
  std::string err = uv_strerror(status);
  for (auto& c : err) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return uv_error(status, "error while attempting to bind on address " + addr.repr() + ": " + err);
}

void ServerState::start_serving() {
  if (serving) return;
  if (closed) throw RuntimeError("server is closed");
  // Listening and accepting are ours, not uv_listen's: on EMFILE libuv accepts
  // the pending connection on a reserved descriptor and closes it, where
  // CPython leaves it queued and retries a second later.
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    uv_os_fd_t fd = -1;
    uv_fileno(listeners[i].handle(), &fd);
    if (::listen(fd, options.backlog) != 0) {
      std::rethrow_exception(bind_error(-errno, i < addresses.size() ? addresses[i] : SocketAddress{}));
    }
    UvHandle p = UvHandle::make("poll");
    if (int rc = uv_poll_init_socket(loop->uv_loop(), p.poll(), fd); rc != 0) std::rethrow_exception(uv_error(rc));
    p.initialized(this);
    pollers.push_back(std::move(p));
  }
  serving = true;
  for (auto& p : pollers) uv_poll_start(p.poll(), UV_READABLE, &ServerState::on_readable);
}

void ServerState::on_readable(uv_poll_t* poller, int status, int /*events*/) {
  auto* s = UvHandle::user_of<ServerState>(poller);
  if (s == nullptr || s->closed) return;
  for (std::size_t i = 0; i < s->pollers.size(); ++i) {
    if (s->pollers[i].poll() == poller) {
      if (status < 0) {
        s->loop->call_exception_handler(
            ExceptionContext{"Error on accepting a connection", uv_error(status), {}, {}});
        return;
      }
      s->accept_pending(i);
      return;
    }
  }
}

void ServerState::accept_pending(std::size_t listener) {
  EventLoop& lp = *loop;
  uv_os_fd_t lfd = -1;
  uv_fileno(listeners[listener].handle(), &lfd);
  auto keep = self;  // a protocol factory may close the server
  // CPython accepts up to `backlog` connections per readable event.
  for (int n = 0; n < options.backlog && !closed; ++n) {
    sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    int fd = ::accept4(lfd, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return;
      if (err == ECONNABORTED) continue;  // the client gave up: nothing to do
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        // CPython goes on with the loop (each try fails and is reported, up
        // to `backlog` times) and schedules the retry each time: one is enough.
        lp.call_exception_handler(
            ExceptionContext{"socket.accept() out of system resource", os_error(err), {}, {}});
        pause_accepting();
        continue;
      }
      lp.call_exception_handler(ExceptionContext{"Error on accepting a connection", os_error(err), {}, {}});
      return;
    }
    UvHandle h = UvHandle::make(kind == StreamTransport::Kind::tcp ? "tcp" : "pipe");
    int rc = kind == StreamTransport::Kind::tcp ? uv_tcp_init(lp.uv_loop(), h.tcp())
                                                : uv_pipe_init(lp.uv_loop(), h.pipe(), 0);
    if (rc == 0) {
      h.initialized(nullptr);
      rc = kind == StreamTransport::Kind::tcp ? uv_tcp_open(h.tcp(), fd) : uv_pipe_open(h.pipe(), fd);
    }
    if (rc != 0) {
      ::close(fd);
      lp.call_exception_handler(ExceptionContext{"socket.accept() out of system resource", uv_error(rc), {}, {}});
      return;
    }
    if (kind == StreamTransport::Kind::tcp) uv_tcp_nodelay(h.tcp(), 1);
    std::shared_ptr<Protocol> protocol;
    try {
      protocol = factory();
      if (!protocol) throw TypeError("protocol_factory returned no protocol");
    } catch (...) {
      lp.call_exception_handler(ExceptionContext{"Error on transport creation for incoming connection",
                                                 std::current_exception(), {}, {}});
      continue;  // h closes the connection
    }
    auto t = StreamTransport::start(lp, std::move(h), kind, std::move(protocol), {}, {},
                                    known_addresses(listener, reinterpret_cast<const sockaddr*>(&peer), peer_len));
    attach(t);
  }
}

StreamTransport::KnownAddresses ServerState::known_addresses(std::size_t listener, const sockaddr* peer,
                                                             socklen_t peer_len) const {
  StreamTransport::KnownAddresses known;
  if (kind != StreamTransport::Kind::tcp) return known;  // a Unix peer is asked (its name is seldom set)
  if (peer_len > 0 && (peer->sa_family == AF_INET || peer->sa_family == AF_INET6))
    known.peername = to_address(peer, peer_len);
  // An accepted connection's local address is the listener's, unless that is
  // a wildcard (0.0.0.0, ::): then it depends on where the client connected.
  if (listener < addresses.size()) {
    const SocketAddress& bound = addresses[listener];
    if (bound.host != "0.0.0.0" && bound.host != "::") known.sockname = bound;
  }
  return known;
}

void ServerState::pause_accepting() {
  if (accept_retry) return;
  for (auto& p : pollers) uv_poll_stop(p.poll());
  accept_retry = loop->call_later(1.0, [this] {  // constants.ACCEPT_RETRY_DELAY
    accept_retry = TimerHandle();
    if (closed) return;
    for (auto& p : pollers) uv_poll_start(p.poll(), UV_READABLE, &ServerState::on_readable);
  });
}

void ServerState::stop_accepting() noexcept {
  if (accept_retry) accept_retry.cancel();
  accept_retry = TimerHandle();
  for (auto& p : pollers) p.close();
  pollers.clear();
}

void ServerState::attach(const std::shared_ptr<StreamTransport>& t) {
  ++active_count;
  clients.insert(t.get());
  std::weak_ptr<Server> weak = self ? std::weak_ptr<Server>(self) : server->weak_from_this();
  StreamTransport* raw = t.get();
  t->on_connection_lost = [weak, raw] {
    if (auto server = weak.lock()) server->state().detach(raw);
  };
}

void ServerState::detach(StreamTransport* t) {
  clients.erase(t);
  --active_count;
  if (active_count == 0 && closed) wakeup();
}

void ServerState::wakeup() {
  auto ws = std::move(waiters);
  waiters.clear();
  waiters_done = true;
  for (auto& w : ws) {
    if (!w.done()) w.set_result();
  }
}

void ServerState::on_leftover(void* p) {
  // The loop closed while the server listened: it is closed now.
  auto* s = static_cast<ServerState*>(p);
  s->closed = true;
  s->serving = false;
  s->stop_accepting();
  auto keep = std::move(s->self);
}

}  // namespace detail

Server::Server(std::unique_ptr<detail::ServerState> state) : state_(std::move(state)) {}

Server::~Server() {
  state_->stop_accepting();
  for (auto& l : state_->listeners) l.close();
}

EventLoop& Server::get_loop() const { return *state_->loop; }

bool Server::is_serving() const { return state_->serving && !state_->closed; }

Coro<void> Server::start_serving() {
  state_->start_serving();
  co_await sleep(std::chrono::seconds(0));
}

Coro<void> Server::serve_forever() {
  auto self = shared_from_this();
  auto& s = *state_;
  if (s.serving_forever) {
    std::ostringstream os;
    os << *this;
    throw RuntimeError("server " + os.str() + " is already being awaited on serve_forever()");
  }
  if (s.closed) {
    std::ostringstream os;
    os << *this;
    throw RuntimeError("server " + os.str() + " is closed");
  }
  s.start_serving();
  s.serving_forever = s.loop->create_future<void>();
  bool cancelled = false;
  std::exception_ptr exc;
  try {
    co_await s.serving_forever;
  } catch (const CancelledError&) {
    cancelled = true;
    exc = std::current_exception();
  } catch (...) {
    exc = std::current_exception();
  }
  s.serving_forever = Future<void>();
  if (cancelled) {
    // CPython: close the server and wait for it, then re-raise the cancellation.
    close();
    co_await wait_closed();
  }
  if (exc) std::rethrow_exception(exc);
}

void Server::close() {
  auto& s = *state_;
  if (s.closed) return;
  auto keep = std::move(s.self);  // this server may go when we return
  s.closed = true;
  s.stop_accepting();
  for (auto& l : s.listeners) l.close();
  s.listeners.clear();
  s.addresses.clear();
  if (!s.unix_path.empty()) {
    ::unlink(s.unix_path.c_str());
    s.unix_path.clear();
  }
  s.serving = false;
  if (s.serving_forever && !s.serving_forever.done()) s.serving_forever.cancel();
  if (s.active_count == 0) s.wakeup();
}

Coro<void> Server::wait_closed() {
  auto self = shared_from_this();
  auto& s = *state_;
  if (s.waiters_done) co_return;
  auto waiter = s.loop->create_future<void>();
  s.waiters.push_back(waiter);
  co_await waiter;
}

void Server::close_clients() {
  std::vector<detail::StreamTransport*> copy(state_->clients.begin(), state_->clients.end());
  for (auto* t : copy) t->close();
}

void Server::abort_clients() {
  std::vector<detail::StreamTransport*> copy(state_->clients.begin(), state_->clients.end());
  for (auto* t : copy) t->abort();
}

std::vector<SocketAddress> Server::sockets() const { return state_->addresses; }

std::vector<int> Server::fds() const {
  std::vector<int> out;
  for (auto& l : state_->listeners) {
    uv_os_fd_t fd;
    if (uv_fileno(l.handle(), &fd) == 0) out.push_back(fd);
  }
  return out;
}

Coro<void> Server::exit_async_with() {
  close();
  co_await wait_closed();
}

std::ostream& operator<<(std::ostream& os, const Server& s) {
  os << "<Server sockets=(";
  for (const auto& a : s.state_->addresses) os << a << ",";
  return os << ")>";
}

}  // namespace asyncio
