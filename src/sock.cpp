// loop.sock_recv / sock_sendall / sock_connect / sock_accept: coroutines over a
// raw non-blocking socket the user owns (CPython selector_events.sock_*), with
// a uv_poll_t watching the descriptor while the call waits.
//
// Limit: libuv allows one poll handle per descriptor, so at most one sock_*
// call may wait on a given socket at a time (CPython allows a reader and a
// writer); a second one gets RuntimeError from libuv's EEXIST.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "asyncio/events.hpp"
#include "asyncio/exceptions.hpp"
#include "sockaddr.hpp"
#include "uv_handle.hpp"

namespace asyncio {
namespace detail {
namespace {

void check_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) throw_os_error(errno);
  if ((flags & O_NONBLOCK) == 0) throw ValueError("the socket must be non-blocking");
}

/// Waits until `fd` is readable or writable (`events`: UV_READABLE / UV_WRITABLE).
Coro<void> wait_fd(EventLoop& loop, int fd, int events) {
  UvHandle h = UvHandle::make("poll");
  if (int rc = uv_poll_init_socket(loop.uv_loop(), h.poll(), fd); rc != 0) std::rethrow_exception(uv_error(rc));
  auto ready = loop.create_future<int>();
  struct Box {
    Future<int> ready;
  } box{ready};
  h.initialized(&box);
  int rc = uv_poll_start(h.poll(), events, [](uv_poll_t* p, int status, int) {
    auto* b = UvHandle::user_of<Box>(p);
    if (b != nullptr && !b->ready.done()) b->ready.set_result(status);
    uv_poll_stop(p);
  });
  if (rc != 0) std::rethrow_exception(uv_error(rc));
  int status = co_await ready;  // `h` closes the watcher however we leave
  if (status < 0) std::rethrow_exception(uv_error(status));
}

}  // namespace
}  // namespace detail

Coro<std::string> EventLoop::sock_recv(int fd, std::size_t n) {
  detail::check_nonblocking(fd);
  std::string buf(n, '\0');
  for (;;) {
    ssize_t got = ::recv(fd, buf.data(), n, 0);
    if (got >= 0) {
      buf.resize(static_cast<std::size_t>(got));
      co_return buf;
    }
    if (errno != EAGAIN && errno != EINTR) throw_os_error(errno);
    co_await detail::wait_fd(*this, fd, UV_READABLE);
  }
}

Coro<void> EventLoop::sock_sendall(int fd, std::string data) {
  detail::check_nonblocking(fd);
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (errno != EAGAIN && errno != EINTR) throw_os_error(errno);
    co_await detail::wait_fd(*this, fd, UV_WRITABLE);
  }
}

Coro<void> EventLoop::sock_connect(int fd, SocketAddress address) {
  detail::check_nonblocking(fd);
  sockaddr_storage ss;
  socklen_t len = detail::to_sockaddr(address, ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) co_return;
  if (errno != EINPROGRESS && errno != EINTR) throw_os_error(errno, "Connect call failed " + address.repr());
  co_await detail::wait_fd(*this, fd, UV_WRITABLE);
  int err = 0;
  socklen_t errlen = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0) throw_os_error(errno);
  if (err != 0) throw_os_error(err, "Connect call failed " + address.repr());
}

Coro<std::pair<int, SocketAddress>> EventLoop::sock_accept(int fd) {
  detail::check_nonblocking(fd);
  for (;;) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int conn = ::accept4(fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn >= 0) co_return std::pair<int, SocketAddress>(conn, detail::to_address(reinterpret_cast<sockaddr*>(&ss), len));
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) throw_os_error(errno);
    co_await detail::wait_fd(*this, fd, UV_READABLE);
  }
}

}  // namespace asyncio
