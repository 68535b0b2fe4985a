#pragma once
/// \file streams.hpp
/// Streams: high-level connections (CPython `asyncio/streams.py`).
///
/// Streams are a protocol plus a buffer, as in CPython: `StreamReaderProtocol`
/// (a Protocol) feeds a `StreamReader`'s buffer; a `StreamWriter` wraps the
/// transport and waits on its flow control in `drain()`. No second I/O path.
///
/// ```cpp
/// auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", 8888);
/// writer.write("Hello World!");                 // Python: writer.write(message.encode())
/// co_await writer.drain();
/// std::string data = co_await reader.read(100); // Python: data = await reader.read(100)
/// writer.close();
/// co_await writer.wait_closed();
/// ```
///
/// Bytes are `std::string` (they may hold any byte, '\0' included): what a
/// C++ user reads from a socket, hands to a parser or prints, without a cast.
///
/// `StreamReader` and `StreamWriter` are copyable handles to shared state (as
/// Python names bind to one object): copies read from and write to the same
/// stream. A default-constructed handle is empty (methods throw RuntimeError).
///
/// Reading (CPython's semantics exactly):
/// - `read(n)`: up to n bytes as soon as some are there; `read()` (n = -1)
///   everything until EOF; "" at EOF.
/// - `readline()`: up to and including '\n'; at EOF the partial line; a line
///   longer than the limit throws ValueError (the line is consumed).
/// - `readexactly(n)`: n bytes, or IncompleteReadError (`partial`, `expected`) at EOF.
/// - `readuntil(sep)` / `readuntil({sep1, sep2})` (3.13): up to and including
///   the first separator found; IncompleteReadError at EOF; LimitOverrunError
///   (`consumed`) when the limit is reached (the data stays in the buffer).
/// - A cancelled read loses no byte: what arrived stays in the buffer.
/// - Only one read may wait at a time: a second throws RuntimeError("read()
///   called while another coroutine is already waiting for incoming data").
/// - Flow control: when the buffer holds more than 2 * limit bytes the
///   transport is paused; reading it down to the limit resumes it.
///
/// Thread safety: on the loop's thread only.
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asyncio/coroutines.hpp"
#include "asyncio/detail/waiters.hpp"
#include "asyncio/events.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/server.hpp"  // start_server returns a Server
#include "asyncio/tasks.hpp"
#include "asyncio/transports.hpp"

namespace asyncio {

class Server;
class StreamReader;
class StreamWriter;

/// The default buffer limit of a StreamReader: 64 KiB (`streams._DEFAULT_LIMIT`).
inline constexpr std::size_t stream_default_limit = 64 * 1024;

namespace detail {
struct StreamWait;

/// A StreamReader's state (CPython's StreamReader attributes), shared by the
/// StreamReader handles and the read awaiters (a count of references on the
/// loop's thread: no atomics). Here so that read()'s common case is inline.
struct ReaderState {
  std::string buffer;
  std::size_t limit = stream_default_limit;
  bool eof = false;
  bool paused = false;  // we paused the transport (flow control)
  // read(n)'s future is busy from a read's suspension to its resumption; a
  // read that must wait meanwhile (another task's, once this one was woken)
  // uses the future in its own awaiter.
  bool read_entry_busy = false;
  std::uint32_t refs = 0;
  std::exception_ptr exception;
  std::shared_ptr<ReadTransport> transport;
  TypedFuture<void>* waiter = nullptr;  // the waiting read's future
  // read(n)'s future, kept from one wait to the next (rearmed: no future made
  // and destroyed per wait).
  std::optional<WaitEntry> read_entry;

  void add_ref() noexcept { ++refs; }
  void release() noexcept {
    if (--refs == 0) [[unlikely]] destroy();
  }
  [[gnu::noinline]] void destroy() noexcept;
  void wakeup_waiter() {
    if (TypedFuture<void>* w = std::exchange(waiter, nullptr); w != nullptr && !w->cancelled()) w->set_result();
  }
  /// The whole buffer, moved out: the allocation goes with the bytes
  /// (src/spare_bytes.hpp brings one back to the next feed_data).
  [[gnu::always_inline]] std::string take_all() {
    std::string all(std::move(buffer));
    buffer.clear();
    if (paused) [[unlikely]] maybe_resume_transport();
    return all;
  }
  void maybe_resume_transport();
  /// The first n bytes (all of them when n >= the size).
  [[gnu::always_inline]] std::string take(std::size_t n) {
    if (n >= buffer.size()) [[likely]] return take_all();
    return take_part(n);
  }
  std::string take_part(std::size_t n);
};

/// The slow path of an awaitable that usually completes at once: a coroutine
/// it starts when it must wait, awaited inline in the awaiting task (as
/// `co_await coro` would).
template <class T>
class InlineCoro {
 public:
  void start(Coro<T> coro) {
    coro_.emplace(std::move(coro));
    (void)coro_->await_ready();  // a Coro is its own awaiter: checks it and marks it awaited
  }
  explicit operator bool() const noexcept { return coro_.has_value(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) noexcept { return coro_->await_suspend(h); }
  T await_resume() { return coro_->await_resume(); }

 private:
  std::optional<Coro<T>> coro_;
};

/// What StreamReader::read() returns: `co_await` it, or give it to
/// create_task, as the coroutine Python's `read()` returns. When bytes are
/// buffered (or at EOF, or n == 0) it completes without suspending; otherwise
/// the awaiting task waits on the stream with no coroutine frame of its own.
/// `read()` with n < 0 runs as a coroutine. Awaitable once, as a coroutine:
/// RuntimeError "cannot reuse already awaited coroutine" the second time,
/// "cannot await an empty or moved-from coroutine" once moved from. It holds
/// the reader's state, so it may outlive the StreamReader handle. Unlike a
/// Coro, one never awaited is not reported in debug mode.
class [[nodiscard]] StreamReadAwaiter {
 public:
  StreamReadAwaiter(Ref<ReaderState> state, std::ptrdiff_t n) noexcept : state_(std::move(state)), n_(n) {}
  /// Only before it is awaited.
  StreamReadAwaiter(StreamReadAwaiter&& o) noexcept : state_(std::move(o.state_)), n_(o.n_), used_(o.used_) {}
  StreamReadAwaiter& operator=(StreamReadAwaiter&&) = delete;
  [[gnu::always_inline]] ~StreamReadAwaiter() {
    if (task_ != nullptr) [[unlikely]] destroyed_while_waiting();
  }

  // The common cases inline (defined below): bytes buffered, or one wait on
  // the reader's kept future; the rest out of line.
  [[gnu::always_inline]] inline bool await_ready();
  [[gnu::always_inline]] inline std::coroutine_handle<> await_suspend(std::coroutine_handle<> h);
  [[gnu::always_inline]] inline std::string await_resume();

 private:
  /// await_ready's other cases (misuse, read(-1), an exception, a read
  /// waiting already, a paused transport).
  bool ready_unusual();
  /// await_suspend's other cases (read(-1), outside a task, the kept future
  /// busy or not made yet).
  std::coroutine_handle<> suspend_unusual(std::coroutine_handle<> h);
  /// The frame was destroyed while suspended here.
  void destroyed_while_waiting() noexcept;

  Ref<ReaderState> state_;
  std::ptrdiff_t n_;
  bool used_ = false;
  TaskCore* task_ = nullptr;          // set from its suspension to its resumption
  WaitEntry* waited_ = nullptr;       // the future it waits on, meanwhile
  // The future feed_data completes is the reader's, kept from one wait to the
  // next; entry_ (in the awaiting frame) only when that one is still with a
  // woken read that has not run yet.
  std::optional<WaitEntry> entry_;
  InlineCoro<std::string> slow_;      // read(n < 0)
};

/// What StreamWriter::drain() returns: `co_await` it, or give it to
/// create_task, as the coroutine Python's `drain()` returns. When writing is
/// not paused and the connection is up it completes without suspending and
/// without a coroutine frame. It refers to the StreamWriter it came from (as
/// a member coroutine refers to its object): await it while that writer lives.
/// Awaitable once, with a read awaiter's errors.
class [[nodiscard]] StreamDrainAwaiter {
 public:
  explicit StreamDrainAwaiter(const StreamWriter& writer) noexcept : writer_(&writer) {}
  /// Only before it is awaited.
  StreamDrainAwaiter(StreamDrainAwaiter&& o) noexcept : writer_(std::exchange(o.writer_, nullptr)), used_(o.used_) {}
  StreamDrainAwaiter& operator=(StreamDrainAwaiter&&) = delete;

  [[gnu::always_inline]] inline bool await_ready();  // (defined below)
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) noexcept { return slow_.await_suspend(h); }
  void await_resume() {
    if (slow_) slow_.await_resume();
  }

 private:
  const StreamWriter* writer_;
  bool used_ = false;
  InlineCoro<void> slow_;
  /// await_ready in full (misuse, the reader's exception, a wait).
  bool ready_unusual();
};
}  // namespace detail

/// Buffered reading from a stream (`asyncio.StreamReader`); see the file comment.
class StreamReader {
 public:
  /// An empty handle.
  StreamReader() noexcept = default;
  /// A new reader with the given buffer limit (ValueError when 0).
  explicit StreamReader(std::size_t limit);

  /// Up to `n` bytes (n < 0: until EOF). "" at EOF or when n == 0. An
  /// awaitable, not a Coro (see detail::StreamReadAwaiter): no coroutine frame
  /// per call.
  [[nodiscard]] detail::StreamReadAwaiter read(std::ptrdiff_t n = -1) const {
    if (!state_) [[unlikely]] state();  // throws
    return detail::StreamReadAwaiter(state_, n);
  }
  /// One line, '\n' included (the partial line at EOF).
  [[nodiscard]] Coro<std::string> readline() const;
  /// Exactly `n` bytes (ValueError when n < 0).
  [[nodiscard]] Coro<std::string> readexactly(std::ptrdiff_t n) const;
  /// Up to and including `separator` (ValueError when empty).
  [[nodiscard]] Coro<std::string> readuntil(std::string separator = "\n") const;
  /// Up to and including the separator that ends first (3.13's tuple form).
  [[nodiscard]] Coro<std::string> readuntil(std::vector<std::string> separators) const;
  /// True when the buffer is empty and feed_eof() was called.
  bool at_eof() const;

  // ---- the protocol's side ----
  /// Appends bytes (RuntimeError after feed_eof()); wakes a waiting read.
  void feed_data(std::string_view data) const;
  void feed_eof() const;
  /// Makes every waiting and later read throw `exc`.
  void set_exception(std::exception_ptr exc) const;
  std::exception_ptr exception() const;
  /// The transport to pause and resume (flow control); RuntimeError if set twice.
  void set_transport(std::shared_ptr<ReadTransport> transport) const;

  std::size_t limit() const;
  /// The bytes buffered and not yet read (a view valid until the next call).
  std::string_view buffered() const;
  explicit operator bool() const noexcept { return static_cast<bool>(state_); }
  /// `<StreamReader 5 bytes eof limit=65536 waiter=<...> transport=<...>>`.
  friend std::ostream& operator<<(std::ostream& os, const StreamReader& r);

 private:
  friend class detail::StreamDrainAwaiter;  // reads the exception without a copy
  friend class StreamReaderProtocol;        // feeds the state without a check
  detail::ReaderState& state() const;
  detail::Ref<detail::ReaderState> state_;
};

/// The protocol that feeds a StreamReader (`asyncio.StreamReaderProtocol`), and
/// the write flow control StreamWriter::drain() waits on (`FlowControlMixin`).
/// With `client_connected_cb` (start_server), each connection runs it as a
/// task; when that task fails its exception goes to the loop's handler
/// ("Unhandled exception in client_connected_cb") and the transport is closed
/// (3.12's behaviour).
class StreamReaderProtocol : public Protocol, public std::enable_shared_from_this<StreamReaderProtocol> {
 public:
  using ClientConnected = std::function<Coro<void>(StreamReader, StreamWriter)>;
  explicit StreamReaderProtocol(StreamReader reader, ClientConnected client_connected_cb = {});
  ~StreamReaderProtocol() override;

  void connection_made(Transport& transport) override;
  void connection_lost(std::exception_ptr exc) override;
  void data_received(std::string_view data) override;
  bool eof_received() override;
  void pause_writing() override;
  void resume_writing() override;

  /// Waits until writing may go on (`_drain_helper`): ConnectionResetError
  /// ("Connection lost") once the connection is lost.
  [[nodiscard]] Coro<void> drain_helper();
  /// drain_helper() would return at once: the connection is up and writing is
  /// not paused (StreamWriter::drain's fast path, no coroutine frame).
  bool drain_ready() const noexcept { return !paused_ && !connection_lost_; }
  /// Completed when the connection is lost (`_get_close_waiter`).
  Future<void> closed();
  const StreamReader& reader() const noexcept { return reader_; }
  /// True for a server's protocol (it runs client_connected_cb): start_tls
  /// is then server side.
  bool server_side() const noexcept { return static_cast<bool>(client_connected_cb_); }
  /// After start_tls: the TLS transport replaces the plain one (`_replace_writer`).
  void replace_transport(std::shared_ptr<Transport> transport);

 private:
  StreamReader reader_;
  ClientConnected client_connected_cb_;
  std::shared_ptr<Transport> transport_;
  Future<void> closed_;
  std::deque<Future<void>> drain_waiters_;
  AnyTask task_;
  bool paused_ = false;
  bool connection_lost_ = false;
  bool over_ssl_ = false;  // eof_received() returns false over TLS, as CPython's
};

/// Writing to a stream (`asyncio.StreamWriter`): a transport plus drain().
class StreamWriter {
 public:
  StreamWriter() noexcept = default;
  StreamWriter(std::shared_ptr<Transport> transport, std::shared_ptr<StreamReaderProtocol> protocol,
               StreamReader reader = {});

  /// transport.write(data): never blocks; follow with `co_await drain()`.
  void write(std::string_view data) const { transport_->write(data); }
  void write(std::string&& data) const { transport_->write(std::move(data)); }
  void write(const char* data) const { transport_->write(std::string_view(data)); }
  void writelines(const std::vector<std::string>& data) const { transport_->writelines(data); }
  void write_eof() const { transport_->write_eof(); }
  bool can_write_eof() const { return transport_->can_write_eof(); }
  /// Waits until the write buffer is at the low-water mark or below. Throws the
  /// reader's exception if it has one, ConnectionResetError("Connection lost")
  /// once the connection is lost.
  /// An awaitable, not a Coro (see detail::StreamDrainAwaiter): no coroutine
  /// frame unless it has to wait.
  [[nodiscard]] detail::StreamDrainAwaiter drain() const { return detail::StreamDrainAwaiter(*this); }
  void close() const { transport_->close(); }
  bool is_closing() const { return transport_->is_closing(); }
  /// Waits until the connection is closed (rethrows the error that closed it).
  [[nodiscard]] Coro<void> wait_closed() const;
  ExtraInfo get_extra_info(std::string_view name) const { return transport_->get_extra_info(name); }
  /// `await writer.start_tls(sslcontext, server_hostname=..., ssl_handshake_timeout=...)`:
  /// upgrades the connection to TLS once the write buffer is drained (server
  /// side when this writer came from start_server). This handle then writes
  /// through TLS and the reader reads decrypted data; other copies of the
  /// writer made before keep the plain transport and must not be used.
  /// Errors: loop.start_tls's (SSLError, ...); the connection is then closed.
  [[nodiscard]] Coro<void> start_tls(std::shared_ptr<ssl::SSLContext> sslcontext, std::string server_hostname = {},
                                     std::optional<std::chrono::duration<double>> ssl_handshake_timeout = {});
  const std::shared_ptr<Transport>& transport() const noexcept { return transport_; }
  explicit operator bool() const noexcept { return transport_ != nullptr; }
  /// `<StreamWriter transport=<...> reader=<...>>`.
  friend std::ostream& operator<<(std::ostream& os, const StreamWriter& w);

 private:
  friend class detail::StreamDrainAwaiter;
  /// drain() when it has to wait (or to let connection_lost run first).
  static Coro<void> drain_slowly(std::shared_ptr<Transport> transport, std::shared_ptr<StreamReaderProtocol> protocol);
  std::shared_ptr<Transport> transport_;
  std::shared_ptr<StreamReaderProtocol> protocol_;
  StreamReader reader_;
};

// ---- the awaiters' common paths, inline (the rest in streams.cpp) ----

namespace detail {

// CPython's read(n > 0): `if not self._buffer and not self._eof: await
// self._wait_for_data('read')`, then the first n bytes.
inline bool StreamReadAwaiter::await_ready() {
  ReaderState* s = state_.get();
  if (s != nullptr && !used_ && n_ >= 0 && !s->exception && s->waiter == nullptr && !s->paused) [[likely]] {
    used_ = true;
    return n_ == 0 || !s->buffer.empty() || s->eof;
  }
  return ready_unusual();
}

inline std::coroutine_handle<> StreamReadAwaiter::await_suspend(std::coroutine_handle<> h) {
  ReaderState& s = *state_;
  LoopCore* loop = t_running_loop;
  TaskCore* task = loop != nullptr ? loop->current_task() : nullptr;
  if (task == nullptr || slow_ || s.read_entry_busy || !s.read_entry) [[unlikely]] return suspend_unusual(h);
  WaitEntry& entry = *s.read_entry;
  entry.rearm();
  s.read_entry_busy = true;
  suspend_task_on(*task, entry, h);
  task_ = task;
  waited_ = &entry;
  s.waiter = &entry;
  trace_await_label(*loop, entry, "stream read");  // what traces and timelines show
  return std::noop_coroutine();
}

inline std::string StreamReadAwaiter::await_resume() {
  if (TaskCore* task = std::exchange(task_, nullptr)) {
    WaitEntry& entry = *std::exchange(waited_, nullptr);
    ReaderState& s = *state_;
    if (!entry_) s.read_entry_busy = false;  // (nothing else runs before entry.result() below)
    trace_forget_label(*task->loop(), entry);
    if (s.waiter == &entry) s.waiter = nullptr;
    task->throw_if_cancel_requested();
    entry.result();
  } else if (slow_) [[unlikely]] {
    return slow_.await_resume();
  }
  if (n_ == 0) [[unlikely]] return std::string();
  return state_->take(static_cast<std::size_t>(n_));
}

inline bool StreamDrainAwaiter::await_ready() {
  if (writer_ != nullptr && !used_) [[likely]] {
    const StreamWriter& w = *writer_;
    const ReaderState* rs = w.reader_.state_.get();
    // What drain_helper() would decide without suspending: most drains return here.
    if ((rs == nullptr || !rs->exception) && !w.transport_->is_closing() && w.protocol_->drain_ready()) [[likely]] {
      used_ = true;
      return true;
    }
  }
  return ready_unusual();
}

}  // namespace detail

/// `asyncio.open_connection(host, port, limit=...)`: a TCP connection as a
/// (reader, writer) pair.
[[nodiscard]] Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port,
                                                                          std::size_t limit = stream_default_limit);
/// `asyncio.open_connection(host, port, ssl=..., server_hostname=..., ...)`: the
/// keyword arguments of loop.create_connection (TLS: ssl.hpp).
[[nodiscard]] Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port,
                                                                          ConnectionOptions options,
                                                                          std::size_t limit = stream_default_limit);
// The overloads without options are plain functions (see events.hpp: g++ 12
// and default arguments of class type in co_await expressions).
/// `asyncio.start_server(client_connected_cb, host, port, ...)`: a TCP server;
/// each connection runs `client_connected_cb(reader, writer)` as a task. An
/// empty host listens on all interfaces; port 0 picks a free port. With
/// `options.ssl` it serves TLS (ssl.hpp): the callback runs after the
/// handshake; a client that fails it never reaches the callback.
[[nodiscard]] Coro<std::shared_ptr<Server>> start_server(StreamReaderProtocol::ClientConnected client_connected_cb,
                                                         std::string host, int port, ServerOptions options,
                                                         std::size_t limit = stream_default_limit);
[[nodiscard]] Coro<std::shared_ptr<Server>> start_server(StreamReaderProtocol::ClientConnected client_connected_cb,
                                                         std::string host, int port);
/// The same on several hosts (Python's list of hosts).
[[nodiscard]] Coro<std::shared_ptr<Server>> start_server(StreamReaderProtocol::ClientConnected client_connected_cb,
                                                         std::vector<std::string> hosts, int port,
                                                         ServerOptions options,
                                                         std::size_t limit = stream_default_limit);
[[nodiscard]] Coro<std::shared_ptr<Server>> start_server(StreamReaderProtocol::ClientConnected client_connected_cb,
                                                         std::vector<std::string> hosts, int port);
/// `asyncio.open_unix_connection(path)`.
[[nodiscard]] Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection(
    std::string path, std::size_t limit = stream_default_limit);
/// `asyncio.start_unix_server(client_connected_cb, path)`.
[[nodiscard]] Coro<std::shared_ptr<Server>> start_unix_server(StreamReaderProtocol::ClientConnected client_connected_cb,
                                                              std::string path, ServerOptions options,
                                                              std::size_t limit = stream_default_limit);
[[nodiscard]] Coro<std::shared_ptr<Server>> start_unix_server(StreamReaderProtocol::ClientConnected client_connected_cb,
                                                              std::string path);

}  // namespace asyncio
