// The transport over a libuv stream: TCP, Unix sockets, pipes (see the header).
#include "stream_transport.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <tuple>

#include <cerrno>
#include <cstdio>
#include <sstream>

#include "asyncio/exceptions.hpp"
#include "sockaddr.hpp"
#include "spare_bytes.hpp"

namespace asyncio::detail {

namespace {

// One read buffer per thread: data_received copies what it keeps (uvloop
// shares one buffer per loop the same way).
constexpr std::size_t kReadBufferSize = 256 * 1024;
thread_local char t_read_buffer[kReadBufferSize];

constexpr unsigned kLogThreshold = 5;  // CPython's constants.LOG_THRESHOLD_FOR_CONNLOST_WRITES

}  // namespace

void ignore_sigpipe_once() {
  static const bool done = [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && (current.sa_flags & SA_SIGINFO) == 0 &&
        current.sa_handler == SIG_DFL)
      ::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

struct StreamTransport::WriteReq {
  uv_write_t req;
  std::string data;
  std::size_t size;  // bytes counted in write_size_
};

std::shared_ptr<StreamTransport> StreamTransport::start(EventLoop& loop, UvHandle handle, Kind kind,
                                                        std::shared_ptr<Protocol> protocol, Options options,
                                                        Future<void> waiter, KnownAddresses known) {
  ignore_sigpipe_once();
  auto t = std::make_shared<StreamTransport>(loop, std::move(handle), kind, std::move(protocol), options,
                                             std::move(known));
  t->self_ = t;
  t->begin(std::move(waiter));
  return t;
}

StreamTransport::StreamTransport(EventLoop& loop, UvHandle handle, Kind kind, std::shared_ptr<Protocol> protocol,
                                 Options options, KnownAddresses known)
    : loop_(&loop),
      handle_(std::move(handle)),
      kind_(kind),
      options_(options),
      sockname_(std::move(known.sockname)),
      peername_(std::move(known.peername)) {
  handle_.initialized(this, &StreamTransport::on_leftover);
  set_protocol(std::move(protocol));
  uv_os_fd_t fd;
  if (uv_fileno(handle_.handle(), &fd) == 0) fd_ = fd;
  if (kind_ == Kind::tcp) {
    if (!sockname_) sockname_ = tcp_address(handle_.tcp(), false);
    if (!peername_) peername_ = tcp_address(handle_.tcp(), true);
  } else if (kind_ == Kind::unix_socket) {
    sockname_ = pipe_address(handle_.pipe(), false);
    peername_ = pipe_address(handle_.pipe(), true);
  }
}

StreamTransport::~StreamTransport() = default;

Coro<void> await_or_close(Future<void> waiter, Transport& transport) {
  std::exception_ptr exc;
  try {
    co_await waiter;
  } catch (...) {
    exc = std::current_exception();  // (no co_await inside a handler)
  }
  if (exc) {
    transport.close();
    std::rethrow_exception(exc);
  }
}

void StreamTransport::on_leftover(void* self) {
  // The loop closed with this transport open: the handle is gone; let go.
  auto* t = static_cast<StreamTransport*>(self);
  t->closing_ = true;
  t->conn_lost_++;
  t->fd_ = -1;
  auto keep = std::move(t->self_);  // may destroy t when this function returns
  t->protocol_.reset();
  t->buffered_ = nullptr;
}

void StreamTransport::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto p = std::dynamic_pointer_cast<Protocol>(protocol);
  if (protocol && !p) throw TypeError("a stream transport needs a Protocol or BufferedProtocol");
  protocol_ = std::move(p);
  BufferedProtocol* buffered = dynamic_cast<BufferedProtocol*>(protocol_.get());
  bool switch_alloc = reading_ && (buffered == nullptr) != (buffered_ == nullptr);
  buffered_ = buffered;
  if (switch_alloc) {  // reading into the other kind of buffer: restart with its on_alloc
    stop_reading();
    start_reading();
  }
}

void StreamTransport::begin(Future<void> waiter) {
  // CPython: call_soon(protocol.connection_made, self); call_soon(add_reader);
  // call_soon(waiter.set_result): all on the next iteration, in this order.
  loop_->call_soon([self = self_, waiter = std::move(waiter)]() mutable {
    if (self->conn_lost_ == 0 && self->protocol_) {
      self->started_ = true;
      try {
        self->protocol_->connection_made(*self);
      } catch (...) {
        self->report("Exception in callback connection_made()", std::current_exception());
      }
    }
    if (self->options_.read && !self->closing_ && !self->paused_) self->start_reading();
    if (waiter && !waiter.done()) waiter.set_result();
  });
}

// ---- reading ----------------------------------------------------------------

void StreamTransport::start_reading() {
  if (reading_ || !handle_) return;
  if (int rc = uv_read_start(handle_.stream(), buffered_ != nullptr ? &on_alloc_buffered : &on_alloc, &on_read);
      rc != 0) {
    fatal_error(uv_error(rc), "Fatal read error on socket transport");
    return;
  }
  reading_ = true;
}

void StreamTransport::stop_reading() {
  if (!reading_) return;
  reading_ = false;
  if (handle_) uv_read_stop(handle_.stream());
}

void StreamTransport::pause_reading() {
  if (!is_reading()) return;
  paused_ = true;
  stop_reading();
}

void StreamTransport::resume_reading() {
  if (closing_ || !paused_) return;
  paused_ = false;
  if (started_ && options_.read) start_reading();
}

void StreamTransport::on_alloc(uv_handle_t*, std::size_t, uv_buf_t* buf) {
  buf->base = t_read_buffer;
  buf->len = kReadBufferSize;
}

void StreamTransport::on_alloc_buffered(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf) {
  auto* t = UvHandle::user_of<StreamTransport>(h);
  if (t == nullptr || t->buffered_ == nullptr) {  // closed, or the protocol was replaced: read and drop
    on_alloc(h, suggested, buf);
    return;
  }
  try {
    std::span<char> b = t->buffered_->get_buffer(suggested);
    if (b.empty()) throw RuntimeError("get_buffer() returned an empty buffer");
    *buf = uv_buf_init(b.data(), static_cast<unsigned>(b.size()));
  } catch (...) {
    *buf = uv_buf_init(nullptr, 0);  // libuv then reports UV_ENOBUFS to on_read
    t->fatal_error(std::current_exception(), "Fatal error: protocol.get_buffer() call failed.");
  }
}

void StreamTransport::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* t = UvHandle::user_of<StreamTransport>(s);
  if (t == nullptr || t->conn_lost_ > 0) return;
  if (nread > 0 && t->buffered_ == nullptr) [[likely]] {
    try {
      t->protocol_->data_received(std::string_view(buf->base, static_cast<std::size_t>(nread)));
    } catch (...) {
      t->data_received_failed(std::current_exception());
    }
    return;
  }
  t->on_read_other(nread);
}

void StreamTransport::data_received_failed(std::exception_ptr exc) {
  fatal_error(std::move(exc), "Fatal error: protocol.data_received() call failed.");
}

void StreamTransport::on_read_other(ssize_t nread) {
  if (nread > 0) {  // into the BufferedProtocol's buffer
    if (buffered_ == nullptr) return;  // (cannot happen: on_read delivers these)
    try {
      buffered_->buffer_updated(static_cast<std::size_t>(nread));
    } catch (...) {
      fatal_error(std::current_exception(), "Fatal error: protocol.buffer_updated() call failed.");
    }
  } else if (nread == UV_EOF) {
    on_eof();
  } else if (nread < 0 && nread != UV_ENOBUFS) {
    fatal_error(uv_error(static_cast<int>(nread)), "Fatal read error on socket transport");
  }
}

void StreamTransport::on_eof() {
  // CPython _read_ready__on_eof.
  stop_reading();
  bool keep_open = false;
  try {
    keep_open = protocol_->eof_received();
  } catch (...) {
    fatal_error(std::current_exception(), "Fatal error: protocol.eof_received() call failed.");
    return;
  }
  if (!keep_open || options_.close_on_eof) close();
}

// ---- writing ----------------------------------------------------------------

inline ssize_t StreamTransport::send_once(std::string_view data) noexcept {
  // Nothing is queued here nor in libuv: write to the descriptor directly, as
  // uv_try_write would (CPython's write() tries sock.send() first the same
  // way). A socket gets send(MSG_NOSIGNAL): a reset peer is EPIPE
  // (BrokenPipeError), never SIGPIPE.
  return kind_ == Kind::pipe ? ::write(fd_, data.data(), data.size())
                             : ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
}

bool StreamTransport::after_send(std::string_view& data, ssize_t n) {
  // What a send() of `data` that returned `n` leaves to do: true when nothing
  // (all sent, or a fatal error closed the transport), false with `data` the
  // rest to queue.
  if (n == static_cast<ssize_t>(data.size())) return true;
  if (n >= 0) {
    data.remove_prefix(static_cast<std::size_t>(n));
    return false;
  }
  if (errno == EINTR) return after_send(data, send_once(data));
  if (errno != EAGAIN && errno != EWOULDBLOCK) {
    fatal_error(uv_error(-errno), "Fatal write error on socket transport");
    return true;
  }
  return false;
}

bool StreamTransport::try_write_now(std::string_view& data) {
  if (write_size_ != 0) return false;  // keep the order: queue behind what is pending
  return after_send(data, send_once(data));
}

void StreamTransport::write(std::string_view data) {
  if (can_send_now(data.size())) [[likely]] {
    ssize_t n = send_once(data);
    if (n == static_cast<ssize_t>(data.size())) [[likely]] return;
    write_rest(data, n);
    return;
  }
  write_slowly(data);
}

void StreamTransport::write(std::string&& data) {
  if (can_send_now(data.size())) [[likely]] {
    ssize_t n = send_once(data);
    if (n == static_cast<ssize_t>(data.size())) [[likely]] {
      keep_spare_bytes(data);  // the next feed_data() may reuse the allocation
      return;
    }
    write_rest(std::move(data), n);
    return;
  }
  write_slowly(std::move(data));
}

void StreamTransport::write_rest(std::string_view data, ssize_t sent) {
  if (after_send(data, sent)) return;
  queue_write(std::string(data), 0);
}

void StreamTransport::write_rest(std::string&& data, ssize_t sent) {
  std::string_view view(data);
  if (after_send(view, sent)) {
    keep_spare_bytes(data);
    return;
  }
  std::size_t offset = data.size() - view.size();
  queue_write(std::move(data), offset);
}

void StreamTransport::write_slowly(std::string_view data) {
  if (eof_) throw RuntimeError("Cannot call write() after write_eof()");
  if (data.empty()) return;
  if (conn_lost_ > 0 || !handle_) {
    if (conn_lost_ >= kLogThreshold) {
      std::fputs("asyncio: socket.send() raised exception.\n", stderr);
    }
    ++conn_lost_;
    return;
  }
  if (try_write_now(data)) return;
  queue_write(std::string(data), 0);
}

void StreamTransport::write_slowly(std::string&& data) {
  if (eof_ || data.empty() || conn_lost_ > 0 || !handle_) {
    write_slowly(std::string_view(data));
    return;
  }
  std::string_view view(data);
  if (try_write_now(view)) {
    keep_spare_bytes(data);
    return;
  }
  std::size_t offset = data.size() - view.size();
  queue_write(std::move(data), offset);
}

void StreamTransport::queue_write(std::string data, std::size_t offset) {
  if (conn_lost_ > 0) return;  // a fatal error in try_write_now
  auto* w = new WriteReq{{}, std::move(data), 0};
  w->size = w->data.size() - offset;
  uv_buf_t b = uv_buf_init(w->data.data() + offset, static_cast<unsigned>(w->size));
  if (int rc = uv_write(&w->req, handle_.stream(), &b, 1, &on_write); rc != 0) {
    delete w;
    fatal_error(uv_error(rc), "Fatal write error on socket transport");
    return;
  }
  write_size_ += w->size;
  maybe_pause_protocol();
}

void StreamTransport::on_write(uv_write_t* req, int status) {
  std::unique_ptr<WriteReq> w(reinterpret_cast<WriteReq*>(req));
  auto* t = UvHandle::user_of<StreamTransport>(req->handle);
  if (t == nullptr || t->conn_lost_ > 0) return;  // closed: the data was dropped
  t->write_size_ -= w->size;
  if (status < 0) {
    t->fatal_error(uv_error(status), "Fatal write error on socket transport");
    return;
  }
  t->maybe_resume_protocol();
  if (t->write_size_ == 0 && t->closing_) {
    t->conn_lost_++;
    t->schedule_connection_lost(nullptr);
  }
}

void StreamTransport::write_eof() {
  if (closing_ || eof_) return;
  if (!options_.can_write_eof) throw NotImplementedError("write_eof() is not supported by this transport");
  eof_ = true;
  auto* req = new uv_shutdown_t;
  // libuv shuts the write side down once the pending writes are done.
  if (uv_shutdown(req, handle_.stream(), [](uv_shutdown_t* r, int) { delete r; }) != 0) delete req;
}

void StreamTransport::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
  std::tie(high_, low_) = flow_control_limits(high, low, 64 * 1024);
  maybe_pause_protocol();
}

std::pair<std::size_t, std::size_t> flow_control_limits(std::optional<std::size_t> high,
                                                        std::optional<std::size_t> low, std::size_t default_high) {
  // CPython transports.add_flowcontrol_defaults.
  if (!high) high = low ? 4 * *low : default_high;
  if (!low) low = *high / 4;
  if (*high < *low) {
    throw ValueError("high (" + std::to_string(*high) + ") must be >= low (" + std::to_string(*low) +
                     ") must be >= 0");
  }
  return {*high, *low};
}

void StreamTransport::maybe_pause_protocol() {
  if (write_size_ <= high_ || protocol_paused_ || !protocol_) return;
  protocol_paused_ = true;
  try {
    protocol_->pause_writing();
  } catch (...) {
    report("protocol.pause_writing() failed", std::current_exception());
  }
}

void StreamTransport::maybe_resume_protocol() {
  if (!protocol_paused_ || write_size_ > low_ || !protocol_) return;
  protocol_paused_ = false;
  try {
    protocol_->resume_writing();
  } catch (...) {
    report("protocol.resume_writing() failed", std::current_exception());
  }
}

// ---- closing ----------------------------------------------------------------

void StreamTransport::close() {
  if (closing_) return;
  closing_ = true;
  stop_reading();
  if (write_size_ == 0) {
    conn_lost_++;
    schedule_connection_lost(nullptr);
  }
}

void StreamTransport::report(const char* message, std::exception_ptr exc) {
  std::ostringstream os;
  print(os);
  loop_->call_exception_handler(ExceptionContext{message, std::move(exc), {}, os.str()});
}

void StreamTransport::fatal_error(std::exception_ptr exc, const char* message) {
  // CPython _fatal_error: OSErrors (a reset, a broken pipe) are the peer's
  // doing and are only logged in debug mode; anything else is reported.
  bool os_error = false;
  try {
    std::rethrow_exception(exc);
  } catch (const OSError&) {
    os_error = true;
  } catch (...) {
  }
  if (!os_error) {
    report(message, exc);
  } else if (loop_->get_debug()) {
    std::fprintf(stderr, "asyncio: %s: %s\n", message, exception_message(exc).c_str());
  }
  force_close(std::move(exc));
}

void StreamTransport::force_close(std::exception_ptr exc) {
  if (conn_lost_ > 0) return;
  write_size_ = 0;
  closing_ = true;
  stop_reading();
  conn_lost_++;
  handle_.close();  // pending writes are cancelled; their callbacks see no user
  schedule_connection_lost(std::move(exc));
}

void StreamTransport::schedule_connection_lost(std::exception_ptr exc) {
  loop_->call_soon([self = self_, exc = std::move(exc)]() mutable { self->call_connection_lost(std::move(exc)); });
}

void StreamTransport::call_connection_lost(std::exception_ptr exc) {
  auto keep = std::move(self_);  // this transport lives at least until we return
  if (started_ && protocol_) {
    try {
      protocol_->connection_lost(std::move(exc));
    } catch (...) {
      report("Exception in callback connection_lost()", std::current_exception());
    }
  }
  handle_.close();
  fd_ = -1;
  protocol_.reset();
  buffered_ = nullptr;
  if (auto done = std::move(on_connection_lost)) done();
}

// ---- introspection ----------------------------------------------------------

ExtraInfo StreamTransport::get_extra_info(std::string_view name) const {
  if (name == "peername" && peername_) return *peername_;
  if (name == "sockname" && sockname_) return *sockname_;
  if ((name == "socket" && kind_ != Kind::pipe) || (name == "pipe" && kind_ == Kind::pipe)) {
    if (fd_ >= 0) return ExtraInfo(fd_);
  }
  return {};
}

const char* StreamTransport::type_name() const {
  switch (kind_) {
    case Kind::tcp: return "TCPTransport";
    case Kind::unix_socket: return "UnixTransport";
    case Kind::pipe: return "PipeTransport";
  }
  return "Transport";
}

void StreamTransport::print(std::ostream& os) const {
  // CPython: <_SelectorSocketTransport fd=7 read=polling write=<idle, bufsize=0>>
  os << "<" << type_name();
  if (conn_lost_ > 0 && !handle_) {
    os << " closed";
  } else if (closing_) {
    os << " closing";
  }
  os << " fd=" << fd_;
  if (handle_) {
    os << " read=" << (reading_ ? "polling" : "idle");
    os << " write=<" << (write_size_ > 0 ? "polling" : "idle") << ", bufsize=" << write_size_ << ">";
  }
  os << ">";
}

}  // namespace asyncio::detail
