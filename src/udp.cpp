// UDP: loop.create_datagram_endpoint and its transport on uv_udp_t (uvloop
// handles/udp.pyx; CPython selector_events._SelectorDatagramTransport).
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <sstream>

#include "asyncio/events.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/protocols.hpp"
#include "sockaddr.hpp"
#include "uv_handle.hpp"

namespace asyncio {
namespace detail {
namespace {

constexpr std::size_t kDatagramBufferSize = 64 * 1024;
thread_local char t_datagram_buffer[kDatagramBufferSize];

/// The datagram transport. Invariant as the stream transport's: `self_`
/// keeps it alive from start until connection_lost has been called.
class UdpTransport final : public DatagramTransport {
 public:
  UdpTransport(EventLoop& loop, UvHandle handle, std::shared_ptr<DatagramProtocol> protocol,
               std::optional<SocketAddress> peer)
      : loop_(&loop), handle_(std::move(handle)), protocol_(std::move(protocol)), peer_(std::move(peer)) {
    handle_.initialized(this, &UdpTransport::on_leftover);
    sockname_ = udp_address(handle_.udp(), false);
    uv_os_fd_t fd;
    if (uv_fileno(handle_.handle(), &fd) == 0) fd_ = fd;
  }

  void begin(std::shared_ptr<UdpTransport> self, Future<void> waiter) {
    self_ = std::move(self);
    loop_->call_soon([self = self_, waiter = std::move(waiter)]() mutable {
      if (self->conn_lost_ == 0) {
        self->started_ = true;
        try {
          self->protocol_->connection_made(*self);
        } catch (...) {
          self->report("Exception in callback connection_made()", std::current_exception());
        }
      }
      if (!self->closing_) {
        if (int rc = uv_udp_recv_start(self->handle_.udp(), &on_alloc, &on_recv); rc != 0)
          self->force_close(uv_error(rc));
      }
      if (waiter && !waiter.done()) waiter.set_result();
    });
  }

  ExtraInfo get_extra_info(std::string_view name) const override {
    if (name == "peername" && peer_) return *peer_;
    if (name == "sockname" && sockname_) return *sockname_;
    if (name == "socket" && fd_ >= 0) return ExtraInfo(fd_);
    return {};
  }
  bool is_closing() const override { return closing_; }
  void close() override {
    if (closing_) return;
    closing_ = true;
    if (handle_) uv_udp_recv_stop(handle_.udp());
    if (write_size_ == 0) {
      conn_lost_++;
      schedule_connection_lost(nullptr);
    }
  }
  void abort() override { force_close(nullptr); }
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override {
    auto p = std::dynamic_pointer_cast<DatagramProtocol>(protocol);
    if (protocol && !p) throw TypeError("a datagram transport needs a DatagramProtocol");
    protocol_ = std::move(p);
  }
  std::shared_ptr<BaseProtocol> get_protocol() const override { return protocol_; }
  std::size_t get_write_buffer_size() const override { return write_size_; }
  void print(std::ostream& os) const override {
    os << "<UDPTransport" << (closing_ ? " closing" : "") << " fd=" << fd_ << " bufsize=" << write_size_ << ">";
  }

  void sendto(std::string_view data, std::optional<SocketAddress> addr) override {
    // CPython _SelectorDatagramTransport.sendto.
    if (addr && peer_ && *addr != *peer_) {
      throw ValueError("Invalid address: must be None or " + peer_->repr());
    }
    if (!addr && !peer_) throw ValueError("Invalid address: must not be None on an unconnected endpoint");
    if (conn_lost_ > 0 || !handle_) {
      if (conn_lost_ >= 5) std::fputs("asyncio: socket.send() raised exception.\n", stderr);
      ++conn_lost_;
      return;
    }
    sockaddr_storage ss;
    const sockaddr* sa = nullptr;
    if (addr && !peer_) {
      to_sockaddr(*addr, ss);
      sa = reinterpret_cast<const sockaddr*>(&ss);
    }
    uv_buf_t b = uv_buf_init(const_cast<char*>(data.data()), static_cast<unsigned>(data.size()));
    if (write_size_ == 0) {
      int n = uv_udp_try_send(handle_.udp(), &b, 1, sa);
      if (n >= 0) return;
      if (n != UV_EAGAIN) {
        error_received(uv_error(n));
        return;
      }
    }
    auto* req = new SendReq{{}, std::string(data)};
    b = uv_buf_init(req->data.data(), static_cast<unsigned>(req->data.size()));
    if (int rc = uv_udp_send(&req->req, handle_.udp(), &b, 1, sa, &on_send); rc != 0) {
      delete req;
      error_received(uv_error(rc));
      return;
    }
    write_size_ += data.size();
  }

 private:
  struct SendReq {
    uv_udp_send_t req;
    std::string data;
  };

  static void on_alloc(uv_handle_t*, std::size_t, uv_buf_t* buf) {
    *buf = uv_buf_init(t_datagram_buffer, kDatagramBufferSize);
  }
  static void on_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr, unsigned) {
    auto* t = UvHandle::user_of<UdpTransport>(h);
    if (t == nullptr || t->conn_lost_ > 0) return;
    if (nread < 0) {
      t->error_received(uv_error(static_cast<int>(nread)));
      return;
    }
    if (addr == nullptr) return;  // nothing more to read now
    try {
      t->protocol_->datagram_received(std::string_view(buf->base, static_cast<std::size_t>(nread)),
                                      to_address(addr));
    } catch (...) {
      t->fatal_error(std::current_exception(), "Fatal error: protocol.datagram_received() call failed.");
    }
  }
  static void on_send(uv_udp_send_t* r, int status) {
    std::unique_ptr<SendReq> req(reinterpret_cast<SendReq*>(r));
    auto* t = UvHandle::user_of<UdpTransport>(r->handle);
    if (t == nullptr || t->conn_lost_ > 0) return;
    t->write_size_ -= req->data.size();
    if (status < 0) t->error_received(uv_error(status));
    if (t->write_size_ == 0 && t->closing_) {
      t->conn_lost_++;
      t->schedule_connection_lost(nullptr);
    }
  }
  static void on_leftover(void* p) {
    auto* t = static_cast<UdpTransport*>(p);
    t->closing_ = true;
    t->conn_lost_++;
    auto keep = std::move(t->self_);
    t->protocol_.reset();
  }

  void error_received(std::exception_ptr exc) {
    try {
      protocol_->error_received(std::move(exc));
    } catch (...) {
      fatal_error(std::current_exception(), "Fatal error: protocol.error_received() call failed.");
    }
  }
  void report(const char* message, std::exception_ptr exc) {
    std::ostringstream os;
    print(os);
    loop_->call_exception_handler(ExceptionContext{message, std::move(exc), {}, os.str()});
  }
  void fatal_error(std::exception_ptr exc, const char* message) {
    report(message, exc);
    force_close(std::move(exc));
  }
  void force_close(std::exception_ptr exc) {
    if (conn_lost_ > 0) return;
    write_size_ = 0;
    closing_ = true;
    conn_lost_++;
    handle_.close();
    schedule_connection_lost(std::move(exc));
  }
  void schedule_connection_lost(std::exception_ptr exc) {
    loop_->call_soon([self = self_, exc = std::move(exc)]() mutable {
      auto keep = std::move(self->self_);
      if (self->started_ && self->protocol_) {
        try {
          self->protocol_->connection_lost(std::move(exc));
        } catch (...) {
          self->report("Exception in callback connection_lost()", std::current_exception());
        }
      }
      self->handle_.close();
      self->fd_ = -1;
      self->protocol_.reset();
    });
  }

  EventLoop* loop_;
  UvHandle handle_;
  std::shared_ptr<DatagramProtocol> protocol_;
  std::shared_ptr<UdpTransport> self_;
  std::optional<SocketAddress> peer_, sockname_;
  int fd_ = -1;
  std::size_t write_size_ = 0;
  unsigned conn_lost_ = 0;
  bool closing_ = false;
  bool started_ = false;
};

}  // namespace
}  // namespace detail

Coro<std::pair<std::shared_ptr<DatagramTransport>, std::shared_ptr<DatagramProtocol>>>
EventLoop::create_datagram_endpoint(DatagramProtocolFactory protocol_factory, std::optional<SocketAddress> local_addr,
                                    std::optional<SocketAddress> remote_addr, DatagramOptions options) {
  if (!local_addr && !remote_addr) throw ValueError("unexpected address family");
  int family = local_addr ? local_addr->family : remote_addr->family;
  sockaddr_storage local_ss, remote_ss;
  if (local_addr) detail::to_sockaddr(*local_addr, local_ss);
  if (remote_addr) detail::to_sockaddr(*remote_addr, remote_ss);
  if (family == 0) family = (local_addr ? local_ss : remote_ss).ss_family;
  detail::UvHandle h = detail::UvHandle::make("udp");
  if (int rc = uv_udp_init_ex(uv_loop(), h.udp(), static_cast<unsigned>(family)); rc != 0)
    std::rethrow_exception(detail::uv_error(rc));
  h.initialized(nullptr);
  if (options.reuse_port) {
    uv_os_fd_t fd;
    uv_fileno(h.handle(), &fd);
    int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) std::rethrow_exception(os_error(errno));
  }
  if (local_addr) {
    if (int rc = uv_udp_bind(h.udp(), reinterpret_cast<sockaddr*>(&local_ss), 0); rc != 0)
      std::rethrow_exception(detail::uv_error(rc));
  }
  if (options.allow_broadcast) uv_udp_set_broadcast(h.udp(), 1);
  std::optional<SocketAddress> peer;
  if (remote_addr) {
    if (int rc = uv_udp_connect(h.udp(), reinterpret_cast<sockaddr*>(&remote_ss)); rc != 0)
      std::rethrow_exception(detail::uv_error(rc));
    peer = detail::udp_address(h.udp(), true);
  }
  std::shared_ptr<DatagramProtocol> protocol = protocol_factory();
  if (!protocol) throw TypeError("protocol_factory returned no protocol");
  auto transport = std::make_shared<detail::UdpTransport>(*this, std::move(h), protocol, peer);
  auto waiter = create_future<void>();
  transport->begin(transport, waiter);
  co_await waiter;
  co_return std::pair<std::shared_ptr<DatagramTransport>, std::shared_ptr<DatagramProtocol>>(transport, protocol);
}

}  // namespace asyncio
