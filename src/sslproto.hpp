#pragma once
// TLS as a protocol on any stream transport (CPython asyncio/sslproto.py;
// uvloop's sslproto.pyx). Private to the library: tcp.cpp, streams.cpp and
// start_tls make these.
//
//   raw transport (TCP) --data_received--> SSLProtocol --decrypted--> app protocol
//   app protocol --write--> SSLTransport --SSLProtocol::write_appdata--> raw transport
//
// OpenSSL runs over two memory BIOs: `incoming_` gets what the raw transport
// received, `outgoing_` holds what OpenSSL wants sent, which process_outgoing()
// writes to the raw transport.
//
// States (CPython's SSLProtocolState):
//   UNWRAPPED -connection_made-> DO_HANDSHAKE -done-> WRAPPED -close()/close_notify/EOF->
//   FLUSHING (decrypt what is left) -> SHUTDOWN (close_notify exchanged) -> the raw
//   transport is closed -> connection_lost -> UNWRAPPED.
//   A handshake failure, a timeout or abort() goes straight to UNWRAPPED.
// The application's side (AppState): INIT -> CON_MADE (connection_made after the
// handshake) -> EOF (eof_received) -> CON_LOST (connection_lost, exactly once,
// and only if connection_made was called).
//
// Invariant: the SSLProtocol and its SSLTransport hold each other until
// connection_lost; the raw transport holds the SSLProtocol as its protocol.
#include <chrono>
#include <deque>
#include <exception>
#include <memory>
#include <string>

#include "asyncio/events.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/ssl.hpp"

struct bio_st;

namespace asyncio::detail {

/// An SSLError (or SSLCertVerificationError) for OpenSSL's error `code`
/// (SSL_get_error) from its error queue, which is cleared; `ssl` gives the
/// verification result; `fallback` is the message when the queue is empty.
std::exception_ptr ssl_error(int code, ssl_st* ssl, const char* fallback);

class SSLTransport;

/// ValueError for `server_hostname` or a TLS timeout given without `ssl`
/// (CPython's "... is only meaningful with ssl").
void check_tls_options(bool ssl, bool server_hostname, bool handshake_timeout, bool shutdown_timeout);
/// The protocol factory of a server: `factory` itself without `options.ssl`,
/// else one that wraps each protocol it makes in an SSLProtocol (server side).
EventLoop::ProtocolFactory tls_server_factory(EventLoop& loop, EventLoop::ProtocolFactory factory,
                                              const ServerOptions& options);

class SSLProtocol final : public Protocol, public std::enable_shared_from_this<SSLProtocol> {
 public:
  enum class State { UNWRAPPED, DO_HANDSHAKE, WRAPPED, FLUSHING, SHUTDOWN };
  enum class AppState { INIT, CON_MADE, EOF_RECEIVED, CON_LOST };
  struct Settings {
    bool server_side = false;
    std::string server_hostname;
    bool call_connection_made = true;  // false for start_tls: the app protocol is connected already
    std::optional<std::chrono::duration<double>> handshake_timeout;
    std::optional<std::chrono::duration<double>> shutdown_timeout;
  };

  /// Makes the protocol and its application transport. ValueError for a
  /// server without a context, check_hostname without a host name, a
  /// non-positive timeout. `waiter` (may be empty) completes when the
  /// handshake is done (with its error when it fails).
  static std::shared_ptr<SSLProtocol> create(EventLoop& loop, std::shared_ptr<Protocol> app_protocol,
                                             std::shared_ptr<ssl::SSLContext> context, Future<void> waiter,
                                             Settings settings);
  /// The ValueErrors create() would throw for these settings.
  static void validate(const std::shared_ptr<ssl::SSLContext>& context, const Settings& settings);
  SSLProtocol(EventLoop& loop, std::shared_ptr<Protocol> app_protocol, std::shared_ptr<ssl::SSLContext> context,
              Future<void> waiter, Settings settings);
  ~SSLProtocol() override;

  /// What the application writes to (`_get_app_transport`).
  std::shared_ptr<SSLTransport> app_transport() const { return app_transport_; }

  // ---- the raw transport's side (Protocol) ----
  void connection_made(Transport& transport) override;
  void connection_lost(std::exception_ptr exc) override;
  void data_received(std::string_view data) override;
  bool eof_received() override;
  void pause_writing() override;
  void resume_writing() override;

 private:
  friend class SSLTransport;
  // handshake
  void start_handshake();
  void check_handshake_timeout();
  void do_handshake();
  void on_handshake_complete(std::exception_ptr exc);
  // shutdown
  void start_shutdown();
  void check_shutdown_timeout();
  void do_flush();
  void do_shutdown();
  void on_shutdown_complete(std::exception_ptr exc);
  void abort(std::exception_ptr exc = nullptr);
  // outgoing
  void write_appdata(std::string_view data);
  /// Encrypts `data` at once; false when OpenSSL wants to be called again
  /// later (nothing taken), throws on an error.
  bool write_now(std::string_view data);
  void do_write();
  void process_outgoing();
  // incoming
  void do_read();
  void do_read_copied();
  void call_eof_received();
  // flow control
  void control_app_writing();
  void control_ssl_reading();
  void pause_app_reading() { app_reading_paused_ = true; }
  void resume_app_reading();
  std::size_t get_write_buffer_size() const;
  void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low);
  // errors
  void fatal_error(std::exception_ptr exc, const char* message = "Fatal error on transport");
  void wakeup_waiter(std::exception_ptr exc = nullptr);
  bool again(int rc, int code) const;
  ExtraInfo get_extra_info(std::string_view name) const;
  void print(std::ostream& os) const;

  EventLoop* loop_;
  std::shared_ptr<Protocol> app_protocol_;
  std::shared_ptr<ssl::SSLContext> context_;
  std::shared_ptr<ssl::SSLObject> sslobj_;
  Future<void> waiter_;
  Settings settings_;
  std::chrono::duration<double> handshake_timeout_;
  std::chrono::duration<double> shutdown_timeout_;
  std::shared_ptr<SSLTransport> app_transport_;
  std::shared_ptr<Transport> transport_;  // the raw transport, from connection_made to connection_lost
  bio_st* incoming_ = nullptr;            // owned by the SSL object
  bio_st* outgoing_ = nullptr;
  State state_ = State::UNWRAPPED;
  AppState app_state_ = AppState::INIT;
  std::deque<std::string> write_backlog_;
  std::string in_buf_;   // do_read_copied's plain text, kept between reads
  std::string out_buf_;  // process_outgoing's cipher text, kept between writes
  std::size_t write_buffer_size_ = 0;
  std::exception_ptr close_exc_;  // the error force-closing the raw transport (its _force_close(exc))
  TimerHandle handshake_timer_;
  TimerHandle shutdown_timer_;
  // handshake results (get_extra_info)
  std::shared_ptr<const ssl::PeerCertificate> peercert_;
  std::shared_ptr<const ssl::CipherInfo> cipher_;
  bool handshake_done_ = false;
  // flow control
  std::size_t incoming_high_, incoming_low_;
  std::size_t outgoing_high_, outgoing_low_;
  unsigned conn_lost_ = 0;
  bool ssl_writing_paused_ = false;
  bool app_reading_paused_ = false;
  bool ssl_reading_paused_ = false;
  bool app_writing_paused_ = false;
  bool eof_received_ = false;
};

/// The application's transport (`_SSLProtocolTransport`): writes go through
/// the TLS layer; close() runs the TLS shutdown first.
class SSLTransport final : public Transport {
 public:
  explicit SSLTransport(std::shared_ptr<SSLProtocol> protocol) : p_(std::move(protocol)) {}

  ExtraInfo get_extra_info(std::string_view name) const override { return p_->get_extra_info(name); }
  bool is_closing() const override { return closed_; }
  void close() override;
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() const override { return p_->app_protocol_; }
  void print(std::ostream& os) const override;
  bool is_reading() const override { return !p_->app_reading_paused_; }
  void pause_reading() override { p_->pause_app_reading(); }
  void resume_reading() override { p_->resume_app_reading(); }
  using WriteTransport::write;
  void write(std::string_view data) override;
  /// NotImplementedError: TLS has no half-close here (CPython's).
  void write_eof() override;
  bool can_write_eof() const override { return false; }
  void abort() override;
  std::size_t get_write_buffer_size() const override { return p_->get_write_buffer_size(); }
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const override {
    return {p_->outgoing_low_, p_->outgoing_high_};
  }
  void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) override;

 private:
  friend class SSLProtocol;
  std::shared_ptr<SSLProtocol> p_;
  bool closed_ = false;
};

}  // namespace asyncio::detail
