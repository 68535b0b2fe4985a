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
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    if (int rc = uv_listen(listeners[i].stream(), options.backlog, &ServerState::on_connection); rc != 0) {
      std::rethrow_exception(bind_error(rc, i < addresses.size() ? addresses[i] : SocketAddress{}));
    }
  }
  serving = true;
}

void ServerState::on_connection(uv_stream_t* listener, int status) {
  auto* s = UvHandle::user_of<ServerState>(listener);
  if (s == nullptr || s->closed) return;
  EventLoop& loop = *s->loop;
  if (status < 0) {
    // CPython: EMFILE, ENFILE, ENOBUFS, ENOMEM are reported and the server
    // keeps serving (libuv has dropped the connection it could not accept).
    bool resource = status == UV_EMFILE || status == UV_ENFILE || status == UV_ENOBUFS || status == UV_ENOMEM;
    if (status != UV_ECONNABORTED && status != UV_EAGAIN) {
      loop.call_exception_handler(ExceptionContext{
          resource ? "socket.accept() out of system resource" : "Error on accepting a connection",
          uv_error(status), {}, {}});
    }
    return;
  }
  UvHandle h = UvHandle::make(s->kind == StreamTransport::Kind::tcp ? "tcp" : "pipe");
  int rc = s->kind == StreamTransport::Kind::tcp ? uv_tcp_init(loop.uv_loop(), h.tcp())
                                                 : uv_pipe_init(loop.uv_loop(), h.pipe(), 0);
  if (rc != 0) {
    loop.call_exception_handler(ExceptionContext{"socket.accept() out of system resource", uv_error(rc), {}, {}});
    return;
  }
  h.initialized(nullptr);
  if (rc = uv_accept(listener, h.stream()); rc != 0) {
    loop.call_exception_handler(ExceptionContext{"socket.accept() out of system resource", uv_error(rc), {}, {}});
    return;
  }
  if (s->kind == StreamTransport::Kind::tcp) uv_tcp_nodelay(h.tcp(), 1);
  std::shared_ptr<Protocol> protocol;
  try {
    protocol = s->factory();
    if (!protocol) throw TypeError("protocol_factory returned no protocol");
  } catch (...) {
    loop.call_exception_handler(ExceptionContext{"Error on transport creation for incoming connection",
                                                 std::current_exception(), {}, {}});
    return;  // h closes the connection
  }
  auto t = StreamTransport::start(loop, std::move(h), s->kind, std::move(protocol), {});
  s->attach(t);
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
  auto keep = std::move(s->self);
}

}  // namespace detail

Server::Server(std::unique_ptr<detail::ServerState> state) : state_(std::move(state)) {}

Server::~Server() {
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
