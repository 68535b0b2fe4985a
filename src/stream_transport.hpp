#pragma once
// The transport over a libuv stream (uv_stream_t): what TCP sockets, Unix
// sockets and pipes share (uvloop's handles/stream.pyx; CPython's
// _SelectorSocketTransport and the pipe transports of unix_events.py).
// Private to the library; tcp.cpp, unix_stream.cpp and the subprocess pipes
// make these from an initialised handle.
//
// Life of a transport:
//   start()  -> next iteration: protocol.connection_made(t), start reading
//               (Options::read), complete the waiter future
//   data     -> data_received (or BufferedProtocol get_buffer/buffer_updated)
//   EOF      -> eof_received(); closes unless it returned true (Options::
//               close_on_eof: pipes close whatever it returns, as CPython's
//               _UnixReadPipeTransport)
//   close()  -> stops reading; once the write buffer is flushed, schedules
//               connection_lost(nullptr), then closes the handle
//   abort()/error -> closes the handle now (pending writes are dropped) and
//               schedules connection_lost(exc)
//
// Invariant: `self_` holds the transport alive from start() until
// connection_lost has been called; after that only users' shared_ptrs do.
#include <functional>
#include <memory>
#include <optional>

#include "asyncio/events.hpp"
#include "asyncio/protocols.hpp"
#include "uv_handle.hpp"

namespace asyncio::detail {

/// Python ignores SIGPIPE at start-up, so that writing to a pipe or socket
/// whose reader is gone fails with EPIPE (BrokenPipeError) instead of killing
/// the process. The library does the same, once, when it makes its first
/// transport or child process, unless the program chose a disposition of its
/// own; children get the default back (libuv resets dispositions in the
/// child). Direct writes use MSG_NOSIGNAL anyway; this covers what libuv
/// writes (uv_write) for a queued transport and pipes.
void ignore_sigpipe_once();

/// Awaits `waiter` (a transport's connection_made, or a TLS handshake); when
/// it fails, closes `transport` and rethrows (CPython's `try: await waiter
/// except BaseException: transport.close(); raise` in create_connection and
/// start_tls).
[[nodiscard]] Coro<void> await_or_close(Future<void> waiter, Transport& transport);

/// CPython's `add_flowcontrol_defaults(high, low, kb)`: (high, low) with high
/// defaulting to `default_high` (4 * low when only low is given) and low to
/// high / 4; ValueError unless high >= low.
std::pair<std::size_t, std::size_t> flow_control_limits(std::optional<std::size_t> high,
                                                        std::optional<std::size_t> low, std::size_t default_high);

class StreamTransport final : public Transport {
 public:
  enum class Kind { tcp, unix_socket, pipe };
  struct Options {
    bool read = true;           ///< start reading after connection_made (false: a write-only pipe)
    bool close_on_eof = false;  ///< close at EOF whatever eof_received() returns
    bool can_write_eof = true;  ///< write_eof() supported (sockets: yes)
  };
  /// A TCP connection's addresses when the caller already has them (a server:
  /// accept() gives the peer's, and a listener bound to one address gives the
  /// local one), so that the transport asks the socket only for the others
  /// (getsockname/getpeername: two system calls per connection otherwise).
  struct KnownAddresses {
    std::optional<SocketAddress> sockname, peername;
  };

  /// Takes an initialised stream handle (uv_tcp_init / uv_pipe_init + uv_pipe_open
  /// done; calling `handle.initialized(nullptr)` right after the init is right, so
  /// that an exception before start() still closes it: start() registers the
  /// transport as the handle's user), makes the transport and schedules
  /// connection_made. For a pipe of a child process: Kind::pipe, and
  /// Options{.read = false} for its stdin, Options{.close_on_eof = true} for
  /// its stdout/stderr (CPython's read and write pipe transports). `waiter`, when given, gets its result after
  /// connection_made (CPython's `waiter` argument of _make_socket_transport).
  static std::shared_ptr<StreamTransport> start(EventLoop& loop, UvHandle handle, Kind kind,
                                                std::shared_ptr<Protocol> protocol, Options options,
                                                Future<void> waiter = {}, KnownAddresses known = {});

  StreamTransport(EventLoop& loop, UvHandle handle, Kind kind, std::shared_ptr<Protocol> protocol,
                  Options options, KnownAddresses known = {});
  ~StreamTransport() override;

  // ---- BaseTransport ----
  ExtraInfo get_extra_info(std::string_view name) const override;
  bool is_closing() const override { return closing_; }
  void close() override;
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() const override { return protocol_; }
  void print(std::ostream& os) const override;
  // ---- ReadTransport ----
  bool is_reading() const override { return !paused_ && !closing_; }
  void pause_reading() override;
  void resume_reading() override;
  // ---- WriteTransport ----
  using WriteTransport::write;
  void write(std::string_view data) override;
  void write(std::string&& data) override;
  void write_eof() override;
  bool can_write_eof() const override { return options_.can_write_eof; }
  void abort() override { force_close(nullptr); }
  std::size_t get_write_buffer_size() const override { return write_size_; }
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const override { return {low_, high_}; }
  void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) override;

  /// Called once, after connection_lost (a Server detaches its client here).
  std::function<void()> on_connection_lost;
  EventLoop& loop() const noexcept { return *loop_; }
  uv_stream_t* stream() const noexcept { return handle_.stream(); }

 private:
  struct WriteReq;
  // Reading: on_alloc hands out the thread's read buffer (a plain Protocol),
  // on_alloc_buffered asks the BufferedProtocol (start_reading picks one).
  // on_read's common case (bytes for a plain Protocol) stays inline; the rest
  // (a BufferedProtocol, EOF, errors) goes to on_read_other.
  static void on_alloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf);
  static void on_alloc_buffered(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  void on_read_other(ssize_t nread);
  void data_received_failed(std::exception_ptr exc);
  static void on_write(uv_write_t* req, int status);
  static void on_leftover(void* self);
  void begin(Future<void> waiter);
  void start_reading();
  void stop_reading();
  void on_eof();
  void queue_write(std::string data, std::size_t offset);
  // Writing: write() sends at once when nothing is queued (one send() on the
  // common path); what the socket did not take, and every unusual case (after
  // write_eof, after the connection was lost, a queue), goes out of line.
  [[gnu::always_inline]] inline ssize_t send_once(std::string_view data) noexcept;
  bool after_send(std::string_view& data, ssize_t n);
  bool try_write_now(std::string_view& data);
  void write_slowly(std::string_view data);
  void write_slowly(std::string&& data);
  void write_rest(std::string_view data, ssize_t sent);
  void write_rest(std::string&& data, ssize_t sent);
  /// The common case of both writes: nothing queued, the connection up, no
  /// write_eof(), something to write.
  bool can_send_now(std::size_t size) const noexcept {
    return write_size_ == 0 && conn_lost_ == 0 && !eof_ && size != 0;
  }
  void maybe_pause_protocol();
  void maybe_resume_protocol();
  void fatal_error(std::exception_ptr exc, const char* message);
  void force_close(std::exception_ptr exc);
  void schedule_connection_lost(std::exception_ptr exc);
  void call_connection_lost(std::exception_ptr exc);
  void report(const char* message, std::exception_ptr exc);
  const char* type_name() const;

  EventLoop* loop_;
  UvHandle handle_;
  Kind kind_;
  Options options_;
  std::shared_ptr<Protocol> protocol_;
  BufferedProtocol* buffered_ = nullptr;  // protocol_ when it is a BufferedProtocol
  std::shared_ptr<StreamTransport> self_;
  std::optional<SocketAddress> sockname_, peername_;
  int fd_ = -1;
  std::size_t write_size_ = 0;
  std::size_t high_ = 64 * 1024;
  std::size_t low_ = 16 * 1024;
  unsigned conn_lost_ = 0;
  bool closing_ = false;
  bool paused_ = false;   // pause_reading()
  bool reading_ = false;  // uv_read_start is in effect
  bool eof_ = false;      // write_eof() called
  bool protocol_paused_ = false;
  bool started_ = false;  // connection_made has been called
};

}  // namespace asyncio::detail
