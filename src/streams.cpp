// Streams on a protocol and a buffer (CPython asyncio/streams.py).
#include "asyncio/streams.hpp"

#include <algorithm>
#include <sstream>

#include "asyncio/exceptions.hpp"
#include "asyncio/server.hpp"
#include "asyncio/detail/trace.hpp"
#include "spare_bytes.hpp"

namespace asyncio {
namespace detail {

void ReaderState::destroy() noexcept { delete this; }

void ReaderState::maybe_resume_transport() {
  if (paused && buffer.size() <= limit) {
    paused = false;
    transport->resume_reading();
  }
}

std::string ReaderState::take_part(std::size_t n) {
  std::string out(buffer, 0, n);
  buffer.erase(0, n);
  maybe_resume_transport();
  return out;
}

/// What a read awaits while the buffer lacks data (CPython `_wait_for_data`):
/// a future in the reading coroutine's frame, completed by feed_data,
/// feed_eof or set_exception. A task suspended here is waiting on the stream
/// `state` (the seam for a tracer's "waits-on" event).
struct StreamWait {
  ReaderState& state;
  const char* func_name;
  Waiter<void> w{nullptr};
  TaskCore* task = nullptr;

  bool await_ready() {
    if (state.waiter != nullptr) {
      throw RuntimeError(std::string(func_name) +
                         "() called while another coroutine is already waiting for incoming data");
    }
    // The transport was paused by feed_data: let data in again.
    if (state.paused) {
      state.paused = false;
      state.transport->resume_reading();
    }
    return false;
  }
  void await_suspend(std::coroutine_handle<> h) {
    w.bind(t_running_loop);
    task = &suspend_on(w, h);
    state.waiter = &w;
    trace_await_label(*t_running_loop, w, "stream read");  // what traces and timelines show
  }
  void await_resume() {
    if (task != nullptr) trace_forget_label(*task->loop(), w);
    if (state.waiter == &w) state.waiter = nullptr;
    task->throw_if_cancel_requested();
    w.result();
  }
  ~StreamWait() {
    if (state.waiter == &w) {  // the frame was destroyed while waiting
      state.waiter = nullptr;
      if (task != nullptr && task->loop() != nullptr) trace_forget_label(*task->loop(), w);
    }
  }
};

namespace {

[[noreturn]] void rethrow(const std::exception_ptr& e) { std::rethrow_exception(e); }

Coro<std::string> read_impl(Ref<ReaderState> s, std::ptrdiff_t n) {
  if (s->exception) rethrow(s->exception);
  if (n == 0) co_return std::string();
  if (n < 0) {
    // Until EOF. CPython reads limit-sized blocks into a list; waiting with the
    // bytes left in the buffer gives the same result and loses nothing when
    // the read is cancelled.
    while (!s->eof) co_await StreamWait{*s, "read"};
    co_return s->take(s->buffer.size());
  }
  if (s->buffer.empty() && !s->eof) co_await StreamWait{*s, "read"};
  co_return s->take(static_cast<std::size_t>(n));
}

Coro<std::string> readexactly_impl(Ref<ReaderState> s, std::ptrdiff_t n) {
  if (n < 0) throw ValueError("readexactly size can not be less than zero");
  if (s->exception) rethrow(s->exception);
  if (n == 0) co_return std::string();
  auto want = static_cast<std::size_t>(n);
  while (s->buffer.size() < want) {
    if (s->eof) {
      std::string partial;
      partial.swap(s->buffer);
      throw IncompleteReadError(std::move(partial), want);
    }
    co_await StreamWait{*s, "readexactly"};
  }
  co_return s->take(want);
}

Coro<std::string> readuntil_impl(Ref<ReaderState> s, std::vector<std::string> separators) {
  // CPython 3.13 readuntil: the shortest match wins.
  std::stable_sort(separators.begin(), separators.end(),
                   [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
  if (separators.empty()) throw ValueError("Separator should contain at least one element");
  std::size_t min_seplen = separators.front().size();
  std::size_t max_seplen = separators.back().size();
  if (min_seplen == 0) throw ValueError("Separator should be at least one-byte string");
  if (s->exception) rethrow(s->exception);
  std::size_t offset = 0;
  std::size_t match_start = 0, match_end = 0;
  for (;;) {
    std::size_t buflen = s->buffer.size();
    if (buflen >= offset + min_seplen) {
      bool found = false;
      for (const auto& sep : separators) {
        std::size_t isep = s->buffer.find(sep, offset);
        if (isep != std::string::npos && (!found || isep + sep.size() < match_end)) {
          found = true;
          match_start = isep;
          match_end = isep + sep.size();
        }
      }
      if (found) break;
      offset = buflen + 1 > max_seplen ? buflen + 1 - max_seplen : 0;
      if (offset > s->limit) throw LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
    }
    if (s->eof) {
      std::string chunk;
      chunk.swap(s->buffer);
      throw IncompleteReadError(std::move(chunk), std::nullopt);
    }
    co_await StreamWait{*s, "readuntil"};
  }
  if (match_start > s->limit) throw LimitOverrunError("Separator is found, but chunk is longer than limit", match_start);
  co_return s->take(match_end);
}

Coro<std::string> readline_impl(Ref<ReaderState> s) {
  std::exception_ptr exc;
  std::size_t consumed = 0;
  std::vector<std::string> newline(1, std::string(1, '\n'));
  try {
    co_return co_await readuntil_impl(s, std::move(newline));
  } catch (IncompleteReadError& e) {
    co_return std::move(e.partial);
  } catch (const LimitOverrunError& e) {
    exc = std::current_exception();
    consumed = e.consumed;
  }
  // CPython: drop the line (or the whole buffer) and raise ValueError.
  if (s->buffer.compare(consumed, 1, "\n") == 0 && consumed < s->buffer.size()) {
    s->buffer.erase(0, consumed + 1);
  } else {
    s->buffer.clear();
  }
  s->maybe_resume_transport();
  throw ValueError(exception_message(exc));
}

}  // namespace

// ---- read(n): the awaiter -------------------------------------------------------
// CPython's read(n > 0): `if not self._buffer and not self._eof: await
// self._wait_for_data('read')`, then the first n bytes. StreamWait's steps,
// with the future in this awaiter (in the reading coroutine's frame).

namespace {

/// await_ready's rare cases before a wait: another read waits already, or
/// feed_data paused the transport.
void prepare_to_wait(ReaderState& s) {
  if (s.waiter != nullptr) {
    throw RuntimeError("read() called while another coroutine is already waiting for incoming data");
  }
  if (s.paused) {  // the transport was paused by feed_data: let data in again
    s.paused = false;
    s.transport->resume_reading();
  }
}

}  // namespace

bool StreamReadAwaiter::ready_unusual() {
  if (!state_) throw RuntimeError("cannot await an empty or moved-from coroutine");
  if (used_) throw RuntimeError("cannot reuse already awaited coroutine");
  used_ = true;
  if (n_ < 0) {
    slow_.start(read_impl(state_, n_));
    return false;
  }
  ReaderState& s = *state_;
  if (s.exception) rethrow(s.exception);
  if (n_ == 0 || !s.buffer.empty() || s.eof) return true;
  prepare_to_wait(s);
  return false;
}

std::coroutine_handle<> StreamReadAwaiter::suspend_unusual(std::coroutine_handle<> h) {
  if (slow_) return slow_.await_suspend(h);
  TaskCore& task = running_task_for_wait();  // (throws outside a task)
  ReaderState& s = *state_;
  WaitEntry* entry;
  if (!s.read_entry_busy) {
    if (s.read_entry) {
      s.read_entry->rearm();
    } else {
      s.read_entry.emplace();
    }
    s.read_entry_busy = true;
    entry = &*s.read_entry;
  } else {
    entry = &entry_.emplace();
  }
  suspend_task_on(task, *entry, h);
  task_ = &task;
  waited_ = entry;
  s.waiter = entry;
  trace_await_label(*task.loop(), *entry, "stream read");  // what traces and timelines show
  return std::noop_coroutine();
}

void StreamReadAwaiter::destroyed_while_waiting() noexcept {
  ReaderState& s = *state_;
  WaitEntry& entry = *waited_;
  if (s.waiter == &entry) s.waiter = nullptr;
  if (task_->loop() != nullptr) trace_forget_label(*task_->loop(), entry);
  if (!entry_) {  // drop the kept future, and the task's callback on it
    s.read_entry_busy = false;
    s.read_entry.reset();
  }
}

}  // namespace detail

// ---- StreamReader -------------------------------------------------------------

StreamReader::StreamReader(std::size_t limit) : state_(detail::Ref<detail::ReaderState>::share(new detail::ReaderState)) {
  if (limit == 0) throw ValueError("Limit cannot be <= 0");
  state_->limit = limit;
}

detail::ReaderState& StreamReader::state() const {
  if (!state_) throw RuntimeError("empty StreamReader handle");
  return *state_;
}

Coro<std::string> StreamReader::readline() const {
  state();
  return detail::readline_impl(state_);
}
Coro<std::string> StreamReader::readexactly(std::ptrdiff_t n) const {
  state();
  return detail::readexactly_impl(state_, n);
}
Coro<std::string> StreamReader::readuntil(std::string separator) const {
  state();
  std::vector<std::string> seps;
  seps.push_back(std::move(separator));
  return detail::readuntil_impl(state_, std::move(seps));
}
Coro<std::string> StreamReader::readuntil(std::vector<std::string> separators) const {
  state();
  return detail::readuntil_impl(state_, std::move(separators));
}

bool StreamReader::at_eof() const { return state().eof && state().buffer.empty(); }

namespace {

/// feed_data's work (CPython's StreamReader.feed_data), inline in both callers.
[[gnu::always_inline]] inline void feed(detail::ReaderState& s, std::string_view data) {
  if (s.eof) [[unlikely]] throw RuntimeError("feed_data after feed_eof");
  if (data.empty()) [[unlikely]] return;
  if (s.buffer.empty()) detail::take_spare_bytes(s.buffer);
  s.buffer.append(data);
  s.wakeup_waiter();
  if (s.buffer.size() > 2 * s.limit && s.transport && !s.paused) [[unlikely]] {
    s.transport->pause_reading();
    s.paused = true;
  }
}

}  // namespace

void StreamReader::feed_data(std::string_view data) const { feed(state(), data); }

void StreamReader::feed_eof() const {
  auto& s = state();
  s.eof = true;
  s.wakeup_waiter();
}

void StreamReader::set_exception(std::exception_ptr exc) const {
  auto& s = state();
  s.exception = exc;
  if (detail::TypedFuture<void>* w = std::exchange(s.waiter, nullptr); w != nullptr && !w->cancelled())
    w->set_exception_ptr(std::move(exc));
}

std::exception_ptr StreamReader::exception() const { return state().exception; }

void StreamReader::set_transport(std::shared_ptr<ReadTransport> transport) const {
  auto& s = state();
  if (s.transport) throw RuntimeError("Transport already set");
  s.transport = std::move(transport);
}

std::size_t StreamReader::limit() const { return state().limit; }
std::string_view StreamReader::buffered() const { return state().buffer; }

std::ostream& operator<<(std::ostream& os, const StreamReader& r) {
  if (!r.state_) return os << "<StreamReader empty>";
  const auto& s = *r.state_;
  os << "<StreamReader";
  if (!s.buffer.empty()) os << " " << s.buffer.size() << " bytes";
  if (s.eof) os << " eof";
  if (s.limit != stream_default_limit) os << " limit=" << s.limit;
  if (s.waiter) os << " waiter=<Future pending>";
  if (s.exception) os << " exception=" << exception_repr(s.exception);
  if (s.transport) os << " transport=" << *s.transport;
  if (s.paused) os << " paused";
  return os << ">";
}

// ---- StreamReaderProtocol ---------------------------------------------------------

StreamReaderProtocol::StreamReaderProtocol(StreamReader reader, ClientConnected client_connected_cb)
    : reader_(std::move(reader)), client_connected_cb_(std::move(client_connected_cb)) {}

StreamReaderProtocol::~StreamReaderProtocol() {
  // CPython's __del__: an exception nobody awaited through wait_closed() is not reported.
  if (closed_ && closed_.done() && !closed_.cancelled()) (void)closed_.exception();
}

Future<void> StreamReaderProtocol::closed() {
  if (!closed_) closed_ = get_running_loop().create_future<void>();
  return closed_;
}

void StreamReaderProtocol::connection_made(Transport& transport) {
  transport_ = std::dynamic_pointer_cast<Transport>(transport.shared_from_this());
  over_ssl_ = static_cast<bool>(transport.get_extra_info("sslcontext"));
  if (reader_) reader_.set_transport(std::dynamic_pointer_cast<ReadTransport>(transport_));
  closed();  // the future exists before anyone can lose the connection
  if (client_connected_cb_) {
    StreamWriter writer(transport_, shared_from_this(), reader_);
    auto task = create_task(client_connected_cb_(reader_, writer));
    task_ = task;
    // 3.12: a failing client_connected_cb is reported and its transport closed.
    std::weak_ptr<Transport> weak = transport_;
    task.add_done_callback([weak](Task<void>& t) {
      auto transport = weak.lock();
      if (t.cancelled()) {
        if (transport) transport->close();
        return;
      }
      if (auto exc = t.exception()) {
        get_running_loop().call_exception_handler(
            ExceptionContext{"Unhandled exception in client_connected_cb", exc, {}, {}});
        if (transport) transport->close();
      }
    });
  }
}

void StreamReaderProtocol::connection_lost(std::exception_ptr exc) {
  if (reader_) {
    if (!exc) {
      reader_.feed_eof();
    } else {
      reader_.set_exception(exc);
    }
  }
  if (closed_ && !closed_.done()) {
    if (!exc) {
      closed_.set_result();
    } else {
      closed_.set_exception(exc);
    }
  }
  // FlowControlMixin.connection_lost: wake the drain() waiters.
  connection_lost_ = true;
  if (paused_) {
    for (auto& w : drain_waiters_) {
      if (w.done()) continue;
      if (!exc) {
        w.set_result();
      } else {
        w.set_exception(exc);
      }
    }
  }
  task_ = AnyTask();
  transport_.reset();
}

void StreamReaderProtocol::data_received(std::string_view data) {
  if (detail::ReaderState* s = reader_.state_.get()) [[likely]] feed(*s, data);
}

bool StreamReaderProtocol::eof_received() {
  if (reader_) reader_.feed_eof();
  // Keep the transport open for writing (half-close); TLS cannot half-close.
  return !over_ssl_;
}

void StreamReaderProtocol::replace_transport(std::shared_ptr<Transport> transport) {
  transport_ = std::move(transport);
  over_ssl_ = static_cast<bool>(transport_->get_extra_info("sslcontext"));
}

void StreamReaderProtocol::pause_writing() { paused_ = true; }

void StreamReaderProtocol::resume_writing() {
  paused_ = false;
  for (auto& w : drain_waiters_) {
    if (!w.done()) w.set_result();
  }
}

Coro<void> StreamReaderProtocol::drain_helper() {
  auto self = shared_from_this();
  if (connection_lost_) throw ConnectionResetError("Connection lost");
  if (!paused_) co_return;
  auto waiter = get_running_loop().create_future<void>();
  drain_waiters_.push_back(waiter);
  std::exception_ptr exc;
  detail::ScopedAwaitLabel label(*detail::t_running_loop, waiter.impl(), "stream drain");
  try {
    co_await waiter;
  } catch (...) {
    exc = std::current_exception();
  }
  drain_waiters_.erase(std::find(drain_waiters_.begin(), drain_waiters_.end(), waiter));
  if (exc) std::rethrow_exception(exc);
}

// ---- StreamWriter -------------------------------------------------------------

StreamWriter::StreamWriter(std::shared_ptr<Transport> transport, std::shared_ptr<StreamReaderProtocol> protocol,
                           StreamReader reader)
    : transport_(std::move(transport)), protocol_(std::move(protocol)), reader_(std::move(reader)) {}


bool detail::StreamDrainAwaiter::ready_unusual() {
  if (writer_ == nullptr) throw RuntimeError("cannot await an empty or moved-from coroutine");
  if (used_) throw RuntimeError("cannot reuse already awaited coroutine");
  used_ = true;
  const StreamWriter& w = *writer_;
  if (w.reader_ && w.reader_.state_->exception) std::rethrow_exception(w.reader_.state_->exception);
  // What drain_helper() would decide without suspending: most drains return here.
  if (!w.transport_->is_closing() && w.protocol_->drain_ready()) return true;
  slow_.start(StreamWriter::drain_slowly(w.transport_, w.protocol_));
  return false;
}

Coro<void> StreamWriter::drain_slowly(std::shared_ptr<Transport> transport,
                                      std::shared_ptr<StreamReaderProtocol> protocol) {
  if (transport->is_closing()) {
    // Let connection_lost run first (CPython: "wait for protocol.connection_lost() call").
    co_await sleep(std::chrono::seconds(0));
  }
  co_await protocol->drain_helper();
}

Coro<void> StreamWriter::start_tls(std::shared_ptr<ssl::SSLContext> sslcontext, std::string server_hostname,
                                   std::optional<std::chrono::duration<double>> ssl_handshake_timeout) {
  auto protocol = protocol_;
  co_await drain();
  StartTLSOptions options;
  options.server_side = protocol->server_side();
  options.server_hostname = std::move(server_hostname);
  options.ssl_handshake_timeout = ssl_handshake_timeout;
  auto transport = co_await get_running_loop().start_tls(transport_, protocol, std::move(sslcontext), options);
  transport_ = transport;
  protocol->replace_transport(std::move(transport));
}

Coro<void> StreamWriter::wait_closed() const {
  auto protocol = protocol_;
  co_await protocol->closed();
}

std::ostream& operator<<(std::ostream& os, const StreamWriter& w) {
  if (!w.transport_) return os << "<StreamWriter empty>";
  os << "<StreamWriter transport=" << *w.transport_;
  if (w.reader_) os << " reader=" << w.reader_;
  return os << ">";
}

// ---- open_connection / start_server ---------------------------------------------

namespace {

EventLoop::ProtocolFactory reader_protocol_factory(std::size_t limit,
                                                   StreamReaderProtocol::ClientConnected cb) {
  return [limit, cb = std::move(cb)] {
    return std::make_shared<StreamReaderProtocol>(StreamReader(limit), cb);
  };
}

std::pair<StreamReader, StreamWriter> make_streams(EventLoop::Connection<Protocol> conn) {
  auto protocol = std::static_pointer_cast<StreamReaderProtocol>(conn.second);
  StreamReader reader = protocol->reader();
  return {reader, StreamWriter(std::move(conn.first), protocol, reader)};
}

}  // namespace

Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port, std::size_t limit) {
  auto& loop = get_running_loop();
  auto conn = co_await loop.create_connection(reader_protocol_factory(limit, {}), std::move(host), port);
  co_return make_streams(std::move(conn));
}

Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port, ConnectionOptions options,
                                                            std::size_t limit) {
  auto& loop = get_running_loop();
  auto conn = co_await loop.create_connection(reader_protocol_factory(limit, {}), std::move(host), port,
                                              std::move(options));
  co_return make_streams(std::move(conn));
}

Coro<std::shared_ptr<Server>> start_server(StreamReaderProtocol::ClientConnected client_connected_cb,
                                           std::string host, int port, ServerOptions options, std::size_t limit) {
  auto& loop = get_running_loop();
  co_return co_await loop.create_server(reader_protocol_factory(limit, std::move(client_connected_cb)),
                                        std::move(host), port, options);
}

Coro<std::shared_ptr<Server>> start_server(StreamReaderProtocol::ClientConnected client_connected_cb,
                                           std::vector<std::string> hosts, int port, ServerOptions options,
                                           std::size_t limit) {
  auto& loop = get_running_loop();
  co_return co_await loop.create_server(reader_protocol_factory(limit, std::move(client_connected_cb)),
                                        std::move(hosts), port, options);
}

Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path, std::size_t limit) {
  auto& loop = get_running_loop();
  auto conn = co_await loop.create_unix_connection(reader_protocol_factory(limit, {}), std::move(path));
  co_return make_streams(std::move(conn));
}

Coro<std::shared_ptr<Server>> start_unix_server(StreamReaderProtocol::ClientConnected client_connected_cb,
                                                std::string path, ServerOptions options, std::size_t limit) {
  auto& loop = get_running_loop();
  co_return co_await loop.create_unix_server(reader_protocol_factory(limit, std::move(client_connected_cb)),
                                             std::move(path), options);
}

// Plain functions (not coroutines): see events.hpp.
Coro<std::shared_ptr<Server>> start_server(StreamReaderProtocol::ClientConnected client_connected_cb,
                                           std::string host, int port) {
  return start_server(std::move(client_connected_cb), std::move(host), port, ServerOptions{});
}

Coro<std::shared_ptr<Server>> start_server(StreamReaderProtocol::ClientConnected client_connected_cb,
                                           std::vector<std::string> hosts, int port) {
  return start_server(std::move(client_connected_cb), std::move(hosts), port, ServerOptions{});
}

Coro<std::shared_ptr<Server>> start_unix_server(StreamReaderProtocol::ClientConnected client_connected_cb,
                                                std::string path) {
  return start_unix_server(std::move(client_connected_cb), std::move(path), ServerOptions{});
}

}  // namespace asyncio
