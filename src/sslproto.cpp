// TLS as a protocol on a transport: CPython's asyncio/sslproto.py state
// machine (see sslproto.hpp), and loop.start_tls.
#include "sslproto.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <climits>
#include <cstdio>
#include <sstream>

#include "asyncio/exceptions.hpp"
#include "asyncio/repr.hpp"
#include "stream_transport.hpp"

namespace asyncio::detail {

namespace {

// CPython's constants.FLOW_CONTROL_HIGH_WATER_SSL_READ / _WRITE (KiB).
constexpr std::size_t kReadHighWater = 256 * 1024;
constexpr std::size_t kWriteHighWater = 512 * 1024;
constexpr unsigned kLogThreshold = 5;  // constants.LOG_THRESHOLD_FOR_CONNLOST_WRITES
/// The largest read or write buffer a connection keeps between calls.
constexpr std::size_t kKeptBuffer = 64 * 1024;

/// Empties this thread's OpenSSL error queue before a TLS call, so that
/// SSL_get_error reads that call's outcome only (as nginx and CPython's _ssl
/// do). ERR_clear_error wipes all 16 slots every time; the queue is nearly
/// always empty, and a peek says so in a few instructions.
inline void clear_ssl_errors() {
  if (ERR_peek_error() != 0) [[unlikely]] ERR_clear_error();
}

const char* state_name(SSLProtocol::State s) {
  switch (s) {
    case SSLProtocol::State::UNWRAPPED: return "UNWRAPPED";
    case SSLProtocol::State::DO_HANDSHAKE: return "DO_HANDSHAKE";
    case SSLProtocol::State::WRAPPED: return "WRAPPED";
    case SSLProtocol::State::FLUSHING: return "FLUSHING";
    case SSLProtocol::State::SHUTDOWN: return "SHUTDOWN";
  }
  return "?";
}

std::chrono::duration<double> checked_timeout(const std::optional<std::chrono::duration<double>>& t,
                                              std::chrono::duration<double> dflt, const char* name) {
  if (!t) return dflt;
  if (t->count() <= 0) {
    throw ValueError(std::string(name) + " should be a positive number, got " + py_float_repr(t->count()));
  }
  return *t;
}

}  // namespace

// ---- construction -------------------------------------------------------------

std::shared_ptr<SSLProtocol> SSLProtocol::create(EventLoop& loop, std::shared_ptr<Protocol> app_protocol,
                                                 std::shared_ptr<ssl::SSLContext> context, Future<void> waiter,
                                                 Settings settings) {
  auto p = std::make_shared<SSLProtocol>(loop, std::move(app_protocol), std::move(context), std::move(waiter),
                                         std::move(settings));
  p->app_transport_ = std::make_shared<SSLTransport>(p);
  return p;
}

void SSLProtocol::validate(const std::shared_ptr<ssl::SSLContext>& context, const Settings& settings) {
  checked_timeout(settings.handshake_timeout, ssl::default_handshake_timeout, "ssl_handshake_timeout");
  checked_timeout(settings.shutdown_timeout, ssl::default_shutdown_timeout, "ssl_shutdown_timeout");
  if (settings.server_side && !context) throw ValueError("Server side SSL needs a valid SSLContext");
  if (settings.server_side && context->protocol() == ssl::PROTOCOL_TLS_CLIENT)
    throw ValueError("Cannot create a server socket with a PROTOCOL_TLS_CLIENT context");
}

SSLProtocol::SSLProtocol(EventLoop& loop, std::shared_ptr<Protocol> app_protocol,
                         std::shared_ptr<ssl::SSLContext> context, Future<void> waiter, Settings settings)
    : loop_(&loop),
      app_protocol_(std::move(app_protocol)),
      context_(std::move(context)),
      waiter_(std::move(waiter)),
      settings_(std::move(settings)),
      handshake_timeout_(
          checked_timeout(settings_.handshake_timeout, ssl::default_handshake_timeout, "ssl_handshake_timeout")),
      shutdown_timeout_(
          checked_timeout(settings_.shutdown_timeout, ssl::default_shutdown_timeout, "ssl_shutdown_timeout")) {
  if (!context_) {
    // CPython's _create_transport_context: a client may go without one.
    if (settings_.server_side) throw ValueError("Server side SSL needs a valid SSLContext");
    context_ = ssl::create_default_context();
    if (settings_.server_hostname.empty()) context_->set_check_hostname(false);
  }
  if (!app_protocol_) throw TypeError("the application protocol is missing");
  sslobj_ = std::make_shared<ssl::SSLObject>(context_, settings_.server_side, settings_.server_hostname);
  incoming_ = BIO_new(BIO_s_mem());
  outgoing_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(incoming_, -1);  // empty: "retry", not EOF
  BIO_set_mem_eof_return(outgoing_, -1);
  SSL_set_bio(sslobj_->native_handle(), incoming_, outgoing_);  // the SSL object owns both
  app_state_ = settings_.call_connection_made ? AppState::INIT : AppState::CON_MADE;
  std::tie(incoming_high_, incoming_low_) = flow_control_limits(std::nullopt, std::nullopt, kReadHighWater);
  std::tie(outgoing_high_, outgoing_low_) = flow_control_limits(std::nullopt, std::nullopt, kWriteHighWater);
}

SSLProtocol::~SSLProtocol() {
  handshake_timer_.cancel();
  shutdown_timer_.cancel();
}

void SSLProtocol::wakeup_waiter(std::exception_ptr exc) {
  if (!waiter_) return;
  if (!waiter_.done()) {
    if (exc) {
      waiter_.set_exception(exc);
    } else {
      waiter_.set_result();
    }
  }
  waiter_ = Future<void>();
}

bool SSLProtocol::again(int rc, int code) const {
  // CPython's SSLAgainErrors: SSLWantReadError and SSLSyscallError (with memory
  // BIOs, a "system call" error only means the BIO is empty).
  (void)rc;
  return code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE ||
         (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0);
}

// ---- the raw transport's callbacks ---------------------------------------------

void SSLProtocol::connection_made(Transport& transport) {
  transport_ = std::dynamic_pointer_cast<Transport>(transport.shared_from_this());
  start_handshake();
}

void SSLProtocol::connection_lost(std::exception_ptr exc) {
  auto self = shared_from_this();
  if (!exc) exc = std::exchange(close_exc_, nullptr);
  write_backlog_.clear();
  write_buffer_size_ = 0;
  (void)BIO_reset(outgoing_);
  ++conn_lost_;
  if (app_transport_) app_transport_->closed_ = true;
  if (state_ != State::DO_HANDSHAKE &&
      (app_state_ == AppState::CON_MADE || app_state_ == AppState::EOF_RECEIVED)) {
    app_state_ = AppState::CON_LOST;
    loop_->call_soon([app = app_protocol_, exc]() { app->connection_lost(exc); });
  }
  state_ = State::UNWRAPPED;
  transport_.reset();
  // Break the cycles: app transport -> this -> app protocol -> (its reader) -> app transport.
  app_transport_.reset();
  app_protocol_.reset();
  wakeup_waiter(exc);
  handshake_timer_.cancel();
  shutdown_timer_.cancel();
}

void SSLProtocol::data_received(std::string_view data) {
  auto self = shared_from_this();
  while (!data.empty()) {
    int n = static_cast<int>(std::min<std::size_t>(data.size(), INT_MAX));
    BIO_write(incoming_, data.data(), n);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  switch (state_) {
    case State::DO_HANDSHAKE: do_handshake(); break;
    case State::WRAPPED: do_read(); break;
    case State::FLUSHING: do_flush(); break;
    case State::SHUTDOWN: do_shutdown(); break;
    case State::UNWRAPPED: break;
  }
}

bool SSLProtocol::eof_received() {
  auto self = shared_from_this();
  eof_received_ = true;
  try {
    switch (state_) {
      case State::DO_HANDSHAKE:
        on_handshake_complete(std::make_exception_ptr(ConnectionResetError()));
        break;
      case State::WRAPPED:
        state_ = State::FLUSHING;
        if (app_reading_paused_) return true;
        do_flush();
        break;
      case State::FLUSHING:
        do_write();
        state_ = State::SHUTDOWN;
        do_shutdown();
        break;
      case State::SHUTDOWN: do_shutdown(); break;
      case State::UNWRAPPED: break;
    }
  } catch (...) {
    if (transport_) transport_->close();
    throw;
  }
  return false;
}

void SSLProtocol::pause_writing() { ssl_writing_paused_ = true; }

void SSLProtocol::resume_writing() {
  auto self = shared_from_this();
  ssl_writing_paused_ = false;
  process_outgoing();
}

// ---- handshake ------------------------------------------------------------------

void SSLProtocol::start_handshake() {
  state_ = State::DO_HANDSHAKE;
  std::weak_ptr<SSLProtocol> weak = weak_from_this();
  handshake_timer_ = loop_->call_later(handshake_timeout_, [weak] {
    if (auto p = weak.lock()) p->check_handshake_timeout();
  });
  do_handshake();
}

void SSLProtocol::check_handshake_timeout() {
  if (state_ != State::DO_HANDSHAKE) return;
  std::string msg = "SSL handshake is taking longer than " + py_float_repr(handshake_timeout_.count()) +
                    " seconds: aborting the connection";
  fatal_error(std::make_exception_ptr(ConnectionAbortedError(msg)));
}

void SSLProtocol::do_handshake() {
  clear_ssl_errors();
  int rc = SSL_do_handshake(sslobj_->native_handle());
  if (rc == 1) {
    on_handshake_complete(nullptr);
    return;
  }
  int code = SSL_get_error(sslobj_->native_handle(), rc);
  if (again(rc, code)) {
    process_outgoing();
    return;
  }
  // The alert that tells the peer why goes out first.
  process_outgoing();
  on_handshake_complete(ssl_error(code, sslobj_->native_handle(), "handshake failed"));
}

void SSLProtocol::on_handshake_complete(std::exception_ptr exc) {
  handshake_timer_.cancel();
  if (exc) {
    state_ = State::UNWRAPPED;
    fatal_error(exc, holds<ssl::SSLCertVerificationError>(exc) ? "SSL handshake failed on verifying the certificate"
                                                                : "SSL handshake failed");
    wakeup_waiter(exc);
    return;
  }
  state_ = State::WRAPPED;
  handshake_done_ = true;
  if (auto cert = sslobj_->getpeercert()) peercert_ = std::make_shared<const ssl::PeerCertificate>(std::move(*cert));
  if (auto c = sslobj_->cipher()) cipher_ = std::make_shared<const ssl::CipherInfo>(std::move(*c));
  if (app_state_ == AppState::INIT) {
    app_state_ = AppState::CON_MADE;
    try {
      app_protocol_->connection_made(*app_transport_);
    } catch (...) {
      fatal_error(std::current_exception(), "Exception in callback connection_made()");
      wakeup_waiter(std::current_exception());
      return;
    }
  }
  wakeup_waiter();
  do_read();
}

// ---- shutdown -------------------------------------------------------------------

void SSLProtocol::start_shutdown() {
  if (state_ == State::FLUSHING || state_ == State::SHUTDOWN || state_ == State::UNWRAPPED) return;
  if (app_transport_) app_transport_->closed_ = true;
  if (state_ == State::DO_HANDSHAKE) {
    abort();
    return;
  }
  state_ = State::FLUSHING;
  std::weak_ptr<SSLProtocol> weak = weak_from_this();
  shutdown_timer_ = loop_->call_later(shutdown_timeout_, [weak] {
    if (auto p = weak.lock()) p->check_shutdown_timeout();
  });
  do_flush();
}

void SSLProtocol::check_shutdown_timeout() {
  if (state_ == State::FLUSHING || state_ == State::SHUTDOWN) {
    abort(std::make_exception_ptr(TimeoutError("SSL shutdown timed out")));
  }
}

void SSLProtocol::do_flush() {
  do_read();
  state_ = State::SHUTDOWN;
  do_shutdown();
}

void SSLProtocol::do_shutdown() {
  if (!eof_received_) {
    // SSLObject.unwrap(): send close_notify, then wait for the peer's.
    clear_ssl_errors();
    SSL* ssl = sslobj_->native_handle();
    int rc = SSL_shutdown(ssl);
    if (rc == 0) rc = SSL_shutdown(ssl);
    if (rc != 1) {
      int code = rc == 0 ? SSL_ERROR_WANT_READ : SSL_get_error(ssl, rc);
      if (again(rc, code)) {
        process_outgoing();
      } else {
        on_shutdown_complete(ssl_error(code, ssl, "shutdown failed"));
      }
      return;
    }
  }
  process_outgoing();
  call_eof_received();
  on_shutdown_complete(nullptr);
}

void SSLProtocol::on_shutdown_complete(std::exception_ptr exc) {
  shutdown_timer_.cancel();
  if (exc) {
    fatal_error(exc);
  } else if (transport_) {
    loop_->call_soon([t = transport_] { t->close(); });
  }
}

void SSLProtocol::abort(std::exception_ptr exc) {
  state_ = State::UNWRAPPED;
  if (transport_) {
    close_exc_ = std::move(exc);
    transport_->abort();
  }
}

void SSLProtocol::fatal_error(std::exception_ptr exc, const char* message) {
  auto self = shared_from_this();
  std::string where;
  if (transport_) {
    std::ostringstream os;
    print(os);
    where = os.str();
    // The raw transport's _force_close(exc): connection_lost gets `exc`.
    if (!close_exc_) close_exc_ = exc;
    transport_->abort();
  }
  if (holds<OSError>(exc)) {
    if (loop_->get_debug()) std::fprintf(stderr, "asyncio: %s: %s\n", message, exception_message(exc).c_str());
  } else if (!holds<CancelledError>(exc)) {
    loop_->call_exception_handler(ExceptionContext{message, exc, {}, where});
  }
}

// ---- outgoing -------------------------------------------------------------------

void SSLProtocol::write_appdata(std::string_view data) {
  if (state_ == State::FLUSHING || state_ == State::SHUTDOWN || state_ == State::UNWRAPPED) {
    if (conn_lost_ >= kLogThreshold) std::fprintf(stderr, "asyncio: SSL connection is closed\n");
    ++conn_lost_;
    return;
  }
  try {
    if (state_ == State::WRAPPED && write_backlog_.empty()) [[likely]] {
      // Nothing waits before it: encrypt straight from the caller's bytes
      // (the backlog keeps them only if OpenSSL cannot take them now).
      if (!write_now(data)) {
        write_backlog_.emplace_back(data);
        write_buffer_size_ += data.size();
      }
      process_outgoing();
      return;
    }
    write_backlog_.emplace_back(data);
    write_buffer_size_ += data.size();
    if (state_ == State::WRAPPED) do_write();
  } catch (...) {
    fatal_error(std::current_exception(), "Fatal error on SSL protocol");
  }
}

bool SSLProtocol::write_now(std::string_view data) {
  SSL* ssl = sslobj_->native_handle();
  clear_ssl_errors();
  std::size_t written = 0;
  if (SSL_write_ex(ssl, data.data(), data.size(), &written) == 1) return true;  // all of it (no partial writes)
  int code = SSL_get_error(ssl, 0);
  if (again(0, code)) return false;  // retried from the backlog (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
  std::rethrow_exception(ssl_error(code, ssl, "write failed"));
}

void SSLProtocol::do_write() {
  while (!write_backlog_.empty()) {
    std::string& data = write_backlog_.front();
    if (!write_now(data)) break;
    write_buffer_size_ -= data.size();
    write_backlog_.pop_front();
  }
  process_outgoing();
}

void SSLProtocol::process_outgoing() {
  if (!ssl_writing_paused_ && transport_) {
    std::size_t n = BIO_ctrl_pending(outgoing_);
    if (n > 0) {
      // Through a buffer kept for the next time (taken out while in use, in
      // case the transport's write calls back into this protocol).
      std::string data = std::move(out_buf_);
      if (data.size() < n) data.resize(n);
      int got = BIO_read(outgoing_, data.data(), static_cast<int>(std::min<std::size_t>(n, INT_MAX)));
      if (got > 0) transport_->write(std::string_view(data.data(), static_cast<std::size_t>(got)));
      if (data.size() <= kKeptBuffer) out_buf_ = std::move(data);
    }
  }
  control_app_writing();
}

// ---- incoming -------------------------------------------------------------------

void SSLProtocol::do_read() {
  if (state_ != State::WRAPPED && state_ != State::FLUSHING) return;
  try {
    if (!app_reading_paused_) {
      do_read_copied();
      if (!write_backlog_.empty()) {
        do_write();
      } else {
        process_outgoing();
      }
    }
    control_ssl_reading();
  } catch (...) {
    fatal_error(std::current_exception(), "Fatal error on SSL protocol");
  }
}

void SSLProtocol::do_read_copied() {
  SSL* ssl = sslobj_->native_handle();
  // Plain text is never longer than the cipher text it comes from: one buffer
  // of that size holds all that can be decrypted now.
  std::size_t cap = BIO_ctrl_pending(incoming_) + static_cast<std::size_t>(SSL_pending(ssl)) + 1;
  // The buffer is kept for the next read (taken out while in use: the
  // application's data_received may come back here).
  std::string data = std::move(in_buf_);
  if (data.size() < cap) data.resize(std::min<std::size_t>(cap, 16 * 1024 * 1024));
  std::size_t size = 0;
  bool close_notify = false;
  for (;;) {
    if (size == data.size()) data.resize(data.size() * 2);
    clear_ssl_errors();
    std::size_t n = 0;
    if (SSL_read_ex(ssl, data.data() + size, data.size() - size, &n) == 1) {
      size += n;
      // Nothing left to decrypt (no cipher text waiting, no record half
      // read): another SSL_read would only say "want read".
      if (BIO_ctrl_pending(incoming_) == 0 && SSL_has_pending(ssl) == 0) break;
      continue;
    }
    int code = SSL_get_error(ssl, 0);
    if (code == SSL_ERROR_ZERO_RETURN) {
      close_notify = true;
      break;
    }
    if (again(0, code)) break;
    // What was decrypted before the error still goes to the application.
    if (size > 0) app_protocol_->data_received(std::string_view(data.data(), size));
    std::rethrow_exception(ssl_error(code, ssl, "read failed"));
  }
  if (size > 0) app_protocol_->data_received(std::string_view(data.data(), size));
  if (data.size() <= kKeptBuffer) in_buf_ = std::move(data);
  if (close_notify) {
    call_eof_received();
    start_shutdown();
  }
}

void SSLProtocol::call_eof_received() {
  try {
    if (app_state_ == AppState::CON_MADE) {
      app_state_ = AppState::EOF_RECEIVED;
      bool keep_open = app_protocol_->eof_received();
      if (keep_open) std::fprintf(stderr, "asyncio: returning true from eof_received() has no effect when using ssl\n");
    }
  } catch (...) {
    fatal_error(std::current_exception(), "Error calling eof_received()");
  }
}

// ---- flow control -----------------------------------------------------------------

std::size_t SSLProtocol::get_write_buffer_size() const { return BIO_ctrl_pending(outgoing_) + write_buffer_size_; }

void SSLProtocol::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
  std::tie(outgoing_high_, outgoing_low_) = flow_control_limits(high, low, kWriteHighWater);
  control_app_writing();
}

void SSLProtocol::control_app_writing() {
  if (!app_protocol_) return;
  std::size_t size = get_write_buffer_size();
  if (size >= outgoing_high_ && !app_writing_paused_) {
    app_writing_paused_ = true;
    try {
      app_protocol_->pause_writing();
    } catch (...) {
      loop_->call_exception_handler(
          ExceptionContext{"protocol.pause_writing() failed", std::current_exception(), {}, {}});
    }
  } else if (size <= outgoing_low_ && app_writing_paused_) {
    app_writing_paused_ = false;
    try {
      app_protocol_->resume_writing();
    } catch (...) {
      loop_->call_exception_handler(
          ExceptionContext{"protocol.resume_writing() failed", std::current_exception(), {}, {}});
    }
  }
}

void SSLProtocol::control_ssl_reading() {
  if (!transport_) return;
  std::size_t size = BIO_ctrl_pending(incoming_);
  if (size >= incoming_high_ && !ssl_reading_paused_) {
    ssl_reading_paused_ = true;
    transport_->pause_reading();
  } else if (size <= incoming_low_ && ssl_reading_paused_) {
    ssl_reading_paused_ = false;
    transport_->resume_reading();
  }
}

void SSLProtocol::resume_app_reading() {
  if (!app_reading_paused_) return;
  app_reading_paused_ = false;
  std::weak_ptr<SSLProtocol> weak = weak_from_this();
  loop_->call_soon([weak] {
    auto p = weak.lock();
    if (!p) return;
    switch (p->state_) {
      case State::WRAPPED: p->do_read(); break;
      case State::FLUSHING: p->do_flush(); break;
      case State::SHUTDOWN: p->do_shutdown(); break;
      default: break;
    }
  });
}

// ---- introspection ------------------------------------------------------------------

ExtraInfo SSLProtocol::get_extra_info(std::string_view name) const {
  if (name == "sslcontext") return ExtraInfo(context_);
  if (handshake_done_) {
    if (name == "ssl_object") return ExtraInfo(std::shared_ptr<const ssl::SSLObject>(sslobj_));
    if (name == "peercert") return peercert_ ? ExtraInfo(peercert_) : ExtraInfo();
    if (name == "cipher") return cipher_ ? ExtraInfo(cipher_) : ExtraInfo();
  }
  if (transport_) return transport_->get_extra_info(name);
  return {};
}

void SSLProtocol::print(std::ostream& os) const {
  os << "<SSLProtocol " << state_name(state_) << " " << *sslobj_;
  if (transport_) os << " transport=" << *transport_;
  os << ">";
}

// ---- the application's transport ------------------------------------------------------

void SSLTransport::close() {
  if (closed_) return;
  closed_ = true;
  p_->start_shutdown();
}

void SSLTransport::abort() {
  closed_ = true;
  p_->abort();
}

void SSLTransport::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto p = std::dynamic_pointer_cast<Protocol>(protocol);
  if (!p) throw TypeError("a TLS transport needs a Protocol");
  p_->app_protocol_ = std::move(p);
}

void SSLTransport::write(std::string_view data) {
  if (data.empty()) return;
  p_->write_appdata(data);
}

void SSLTransport::write_eof() { throw NotImplementedError("SSL transports do not support write_eof()"); }

void SSLTransport::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
  p_->set_write_buffer_limits(high, low);
}

void SSLTransport::print(std::ostream& os) const {
  os << "<SSLTransport" << (closed_ ? " closed" : "") << " protocol=";
  p_->print(os);
  os << ">";
}

}  // namespace asyncio::detail

namespace asyncio {

Coro<std::shared_ptr<Transport>> EventLoop::start_tls(std::shared_ptr<Transport> transport,
                                                      std::shared_ptr<Protocol> protocol,
                                                      std::shared_ptr<ssl::SSLContext> sslcontext,
                                                      StartTLSOptions options) {
  if (!sslcontext) throw TypeError("sslcontext is expected to be an instance of ssl.SSLContext, got None");
  if (!transport) throw TypeError("transport None is not supported by start_tls()");
  auto waiter = create_future<void>();
  auto ssl_protocol = detail::SSLProtocol::create(
      *this, std::move(protocol), std::move(sslcontext), waiter,
      {options.server_side, options.server_hostname, false, options.ssl_handshake_timeout,
       options.ssl_shutdown_timeout});
  // Pause first so that no data reaches the TLS layer before its connection_made.
  transport->pause_reading();
  transport->set_protocol(ssl_protocol);
  Handle conmade = call_soon([ssl_protocol, transport] { ssl_protocol->connection_made(*transport); });
  Handle resume = call_soon([transport] { transport->resume_reading(); });
  try {
    co_await detail::await_or_close(waiter, *transport);
  } catch (...) {
    conmade.cancel();
    resume.cancel();
    throw;
  }
  co_return std::shared_ptr<Transport>(ssl_protocol->app_transport());
}

Coro<std::shared_ptr<Transport>> EventLoop::start_tls(std::shared_ptr<Transport> transport,
                                                      std::shared_ptr<Protocol> protocol,
                                                      std::shared_ptr<ssl::SSLContext> sslcontext) {
  return start_tls(std::move(transport), std::move(protocol), std::move(sslcontext), StartTLSOptions{});
}

}  // namespace asyncio
