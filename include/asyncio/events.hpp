#pragma once
/// \file events.hpp
/// The event loop (CPython `asyncio/events.py` and `base_events.py`).
///
/// One `EventLoop` runs on one thread; `asyncio::run()` makes one, and inside
/// it `asyncio::get_running_loop()` returns it. It runs callbacks and task
/// steps from its ready queue, fires timers, and polls libuv for I/O.
///
/// One iteration (`_run_once`), exactly as CPython's:
/// 1. wait for I/O until the first timer is due (not at all when callbacks are
///    ready); 2. move every due timer to the ready queue in deadline order
///    (ties in scheduling order); 3. run exactly the callbacks that were ready
///    when the pass began: what they schedule waits for the next iteration.
///
/// One deliberate difference: CPython calls `select(0)` on every iteration.
/// Here, while callbacks are ready, libuv is polled only when it has something
/// alive (sockets, processes, ...) and then at most every 64 iterations or
/// every 50 µs, whichever comes first. A system call per iteration would cost
/// more than the rest of an iteration together (DESIGN.md, measured notes).
///
/// Virtual time (`RunOptions::virtual_time`, `ASYNCIO_VIRTUAL_TIME=1`): when
/// nothing is ready and nothing external is pending (no libuv handle alive, no
/// executor job, no thread-safe callback), the clock jumps to the next timer,
/// as trio's autojump clock. While something external is pending, virtual time
/// advances with real time. `time()` reports virtual seconds.
///
/// Thread safety: only `call_soon_threadsafe` may be called from another
/// thread. In debug mode the other scheduling methods check the thread and
/// throw RuntimeError.
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "asyncio/concurrent_futures.hpp"
#include "asyncio/detail/await_site.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/transports.hpp"

struct uv_loop_s;  // libuv's loop; <uv.h> stays out of public headers

namespace asyncio {

template <class T>
class Task;
struct RunOptions;
class Server;
class Protocol;
class DatagramProtocol;

namespace ssl {
class SSLContext;  // ssl.hpp
}

/// Options of `create_server` / `start_server` (the keyword arguments of
/// `loop.create_server`). g++ 12: name the options before the `co_await`
/// (`ServerOptions o{.backlog = 10}; co_await loop.create_server(f, h, p, o)`),
/// as for SocketAddress; the same for ConnectionOptions and StartTLSOptions.
struct ServerOptions {
  int backlog = 100;           ///< listen() backlog
  bool reuse_address = true;   ///< SO_REUSEADDR (CPython's default on POSIX)
  bool reuse_port = false;     ///< SO_REUSEPORT
  bool start_serving = true;   ///< accept at once; false: wait for start_serving()
  /// `ssl=`: serve TLS with this (server) context (ssl.hpp); null: plain TCP.
  std::shared_ptr<ssl::SSLContext> ssl = nullptr;
  /// `ssl_handshake_timeout=` (60 s when unset); ValueError without `ssl`.
  std::optional<std::chrono::duration<double>> ssl_handshake_timeout = std::nullopt;
  /// `ssl_shutdown_timeout=` (30 s when unset); ValueError without `ssl`.
  std::optional<std::chrono::duration<double>> ssl_shutdown_timeout = std::nullopt;
};

/// Options of `create_connection` / `open_connection` (the keyword arguments
/// of `loop.create_connection`).
struct ConnectionOptions {
  /// `ssl=`: speak TLS with this (client) context (ssl.hpp); null: plain TCP.
  std::shared_ptr<ssl::SSLContext> ssl = nullptr;
  /// `server_hostname=`: the name to check the certificate against and send
  /// (SNI); empty: the host connected to. ValueError without `ssl`.
  std::string server_hostname = {};
  /// `ssl_handshake_timeout=` (60 s when unset); ValueError without `ssl`.
  std::optional<std::chrono::duration<double>> ssl_handshake_timeout = std::nullopt;
  /// `ssl_shutdown_timeout=` (30 s when unset); ValueError without `ssl`.
  std::optional<std::chrono::duration<double>> ssl_shutdown_timeout = std::nullopt;
};

/// Options of `loop.start_tls` (its keyword arguments).
struct StartTLSOptions {
  bool server_side = false;
  std::string server_hostname = {};  ///< a client's host name to check and send (SNI)
  std::optional<std::chrono::duration<double>> ssl_handshake_timeout = std::nullopt;  ///< 60 s when unset
  std::optional<std::chrono::duration<double>> ssl_shutdown_timeout = std::nullopt;  ///< 30 s when unset
};

/// Options of `create_datagram_endpoint`.
struct DatagramOptions {
  bool reuse_port = false;       ///< SO_REUSEPORT
  bool allow_broadcast = false;  ///< SO_BROADCAST
};

/// One result of `getaddrinfo` (Python's 5-tuple (family, type, proto,
/// canonname, sockaddr)).
struct AddrInfo {
  int family = 0;  ///< AF_INET, AF_INET6, ...
  int type = 0;    ///< SOCK_STREAM, SOCK_DGRAM, ...
  int proto = 0;   ///< IPPROTO_TCP, ...
  std::string canonname;
  SocketAddress sockaddr;
  friend bool operator==(const AddrInfo&, const AddrInfo&) = default;
  /// `(<AddressFamily.AF_INET: 2>, <SocketKind.SOCK_STREAM: 1>, 6, '', ('127.0.0.1', 80))`.
  friend std::ostream& operator<<(std::ostream& os, const AddrInfo& a);
};

namespace detail {
class UnixSignals;  // src/unix_signals.hpp
/// True for Coro<T> (what an `async def` returns).
template <class A>
inline constexpr bool is_coro_v = false;
template <class T>
inline constexpr bool is_coro_v<Coro<T>> = true;

class DumpSignal;  // src/dump_signal.cpp
struct DumpSignalCloser {
  void operator()(DumpSignal* s) const noexcept;  // uv_close; freed in the close callback
};

/// Timers cancelled while in a loop's heap, on this thread (the loop's):
/// the loop rebuilds its heap when they are more than half of it, as
/// CPython's `_timer_cancelled_count`. Several loops of one thread share the
/// count; it only decides when to sweep.
inline constinit thread_local std::size_t t_cancelled_timers = 0;

/// What the loop's timer heap holds: a ready-queue entry with a deadline. The
/// heap holds one reference to it, which it gives back through `drop()` when
/// the timer is cancelled, or hands to the ready queue when the timer is due
/// (`run()` then fires it unless cancelled, and releases that reference).
/// Two kinds: HandleBase (call_later, call_at, the library's timeouts) and
/// sleep()'s future (src/tasks.cpp), which carries no callback of its own.
struct TimerNode : Runnable {
  using Runnable::Runnable;
  /// TimerHandle.cancel(): the timer will not fire (it leaves the heap at its
  /// deadline, or when cancelled timers are more than half of the heap).
  void cancel() noexcept {
    if (in_heap_ && !cancelled_) ++t_cancelled_timers;
    cancelled_ = true;
  }
  bool cancelled() const noexcept { return cancelled_; }

  std::int64_t when_ = 0;  // timers: deadline in loop nanoseconds
  std::uint64_t seq_ = 0;  // timers: scheduling order, breaks ties
  bool cancelled_ = false;
  bool in_heap_ = false;  // timers: in the loop's heap (counted by cancel())
};

/// A scheduled callback [events.Handle / TimerHandle]. Reference counted
/// (atomically: call_soon_threadsafe hands one to another thread).
class HandleBase : public TimerNode, public Pooled {
 public:
  using InvokeFn = void (*)(HandleBase*);
  using DropFn = void (*)(HandleBase*) noexcept;
  HandleBase(InvokeFn invoke, DropFn drop) noexcept : TimerNode(kOps), invoke_(invoke), drop_(drop) {}
  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) drop_(this);
  }
  /// Runs the callback unless cancelled, then drops the ready queue's
  /// reference; dropped (never run), only drops that reference.
  static const RunnableOps kOps;
  /// The handle an entry is, or null when it is another kind.
  static HandleBase* from(Runnable* r) noexcept { return r->ops_ == &kOps ? static_cast<HandleBase*>(r) : nullptr; }

 private:
  std::atomic<std::uint32_t> refs_{1};  // in TimerNode's tail padding

 public:
  const char* what_ = "callback";

 private:
  static void run_entry(Runnable* r);  // kOps.run
  InvokeFn invoke_;
  DropFn drop_;
};

/// A handle owning a callable.
template <class F>
class FnHandle final : public HandleBase {
 public:
  explicit FnHandle(F fn) : HandleBase(&FnHandle::invoke, &FnHandle::drop), fn_(std::move(fn)) {}

 private:
  static void invoke(HandleBase* h) { static_cast<FnHandle*>(h)->fn_(); }
  static void drop(HandleBase* h) noexcept { delete static_cast<FnHandle*>(h); }
  F fn_;
};

/// A handle made on another thread (call_soon_threadsafe) and freed on the
/// loop's: from the heap, not from a thread's frame pool, whose free lists
/// would then grow on one thread and be carved anew on the other without
/// bound (issue 8, defect 2).
template <class F>
class HeapFnHandle final : public HandleBase {
 public:
  explicit HeapFnHandle(F fn) : HandleBase(&HeapFnHandle::invoke, &HeapFnHandle::drop), fn_(std::move(fn)) {}
  static void* operator new(std::size_t size) { return ::operator new(size); }
  static void operator delete(void* p, std::size_t size) noexcept { ::operator delete(p, size); }

 private:
  static void invoke(HandleBase* h) { static_cast<HeapFnHandle*>(h)->fn_(); }
  static void drop(HandleBase* h) noexcept { delete static_cast<HeapFnHandle*>(h); }
  F fn_;
};

/// The loop's timers [`loop._scheduled`]: a binary min-heap on (deadline,
/// scheduling order). An entry keeps the deadline beside the timer, so that
/// sifting compares without touching the timers (100,000 timers: cache
/// misses); the scheduling order (`seq_`) is read from the timers only to
/// break a tie. 16 bytes a timer, in a big buffer (detail/big_buffer.hpp)
/// that doubles when full.
class TimerHeap {
 public:
  struct Entry {
    std::int64_t when;
    TimerNode* timer;
  };
  TimerHeap() = default;
  TimerHeap(const TimerHeap&) = delete;
  TimerHeap& operator=(const TimerHeap&) = delete;
  ~TimerHeap();
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  /// The first timer due (the heap must not be empty).
  const Entry& top() const noexcept { return data_[0]; }
  void push(Entry e);
  /// Removes the first timer due and returns it (the heap must not be empty).
  TimerNode* pop() noexcept;
  /// Removes every timer for which `drop(timer)` returns true (`drop` releases
  /// what it takes), then restores the heap order.
  void remove_if(bool (*drop)(TimerNode*) noexcept) noexcept;
  const Entry* begin() const noexcept { return data_; }
  const Entry* end() const noexcept { return data_ + size_; }
  void clear() noexcept { size_ = 0; }

 private:
  void grow();
  Entry* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

template <template <class> class H = FnHandle, class F, class... Args>
HandleBase* make_handle(F&& fn, Args&&... args) {
  if constexpr (sizeof...(Args) == 0) {
    return new H<std::decay_t<F>>(std::forward<F>(fn));
  } else {
    auto bound = [fn = std::forward<F>(fn), ... args = std::forward<Args>(args)]() mutable {
      std::invoke(fn, args...);
    };
    return new H<decltype(bound)>(std::move(bound));
  }
}

// ---- delays and deadlines: the one conversion (issue 8, defect 8) ----------
//
// Every delay (sleep, call_later, wait_for, timeout, wait, as_completed) becomes
// a loop deadline by CPython's rule `call_at(self.time() + delay)`, computed in
// integer loop nanoseconds. Delays too large for it (1e300, inf,
// hours::max()) saturate to `kNoDeadline`: a timer there never fires, as a
// CPython timer a thousand years away never does. Negative ones saturate the
// other way (due at once). NaN raises ValueError("Invalid delay: NaN (not a
// number)"), as 3.13's sleep does (CPython's call_later/call_at accept NaN and
// corrupt their heap's order; we raise there too).

/// The loop time of "no deadline".
inline constexpr std::int64_t kNoDeadline = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t kPastDeadline = std::numeric_limits<std::int64_t>::min();

[[noreturn]] void throw_nan_delay();

/// Seconds (a double, as Python's numbers) to nanoseconds, saturating.
inline std::int64_t delay_to_ns(double seconds) {
  if (std::isnan(seconds)) [[unlikely]] throw_nan_delay();
  double ns = seconds * 1e9;
  if (ns >= 9.2e18) return kNoDeadline;
  if (ns <= -9.2e18) return kPastDeadline;
  return std::llround(ns);
}
/// A std::chrono duration to nanoseconds, saturating (exact when it fits).
template <class Rep, class Period>
std::int64_t delay_to_ns(std::chrono::duration<Rep, Period> delay) {
  if constexpr (std::is_floating_point_v<Rep>) {
    return delay_to_ns(std::chrono::duration<double>(delay).count());
  } else {
    double seconds = std::chrono::duration<double>(delay).count();
    if (seconds >= 9.2e9) return kNoDeadline;
    if (seconds <= -9.2e9) return kPastDeadline;
    return std::chrono::duration_cast<std::chrono::nanoseconds>(delay).count();
  }
}
/// `now + delay` in loop nanoseconds, saturating (CPython's `self.time() + delay`).
inline std::int64_t deadline_after(std::int64_t now_ns, std::int64_t delay_ns) noexcept {
  std::int64_t when;
  if (__builtin_add_overflow(now_ns, delay_ns, &when)) return delay_ns > 0 ? kNoDeadline : kPastDeadline;
  return when;
}
/// The one rule for a delay, CPython's `call_at(self.time() + delay)`: the
/// deadline `delay` (seconds as a double, or a std::chrono duration) after
/// loop time `now_ns`. sleep, call_later, timeout, wait_for, wait and
/// as_completed all come here (sleep and the waits through delay_to_ns then
/// deadline_after, when they start), so equal delays land on the same instant.
template <class Delay>
std::int64_t deadline_in(std::int64_t now_ns, Delay delay) {
  return deadline_after(now_ns, delay_to_ns(delay));
}
/// A loop time in seconds (`call_at(when)`, `timeout_at(when)`) to loop nanoseconds.
inline std::int64_t when_to_ns(double when) { return delay_to_ns(when); }
/// Loop nanoseconds to loop seconds; "no deadline" reads as inf.
inline double ns_to_seconds(std::int64_t ns) noexcept {
  if (ns == kNoDeadline) return std::numeric_limits<double>::infinity();
  if (ns == kPastDeadline) return -std::numeric_limits<double>::infinity();
  return static_cast<double>(ns) * 1e-9;
}

}  // namespace detail

/// A callback scheduled by `call_soon` (asyncio.Handle): `cancel()` it before
/// it runs and it will not run.
class Handle {
 public:
  Handle() noexcept = default;
  explicit Handle(detail::HandleBase* p) noexcept : p_(detail::Ref<detail::HandleBase>::adopt(p)) {}  // adopts a reference
  /// Cancels the callback (no effect once it has run). Loop thread only.
  void cancel() noexcept {
    if (p_) p_->cancel();
  }
  bool cancelled() const noexcept { return p_ && p_->cancelled(); }
  explicit operator bool() const noexcept { return static_cast<bool>(p_); }
  /// Gives up the reference this Handle holds (library internals).
  detail::HandleBase* detach() noexcept { return p_.detach(); }
  friend std::ostream& operator<<(std::ostream& os, const Handle& h);

 protected:
  detail::Ref<detail::HandleBase> p_;
};

/// A callback scheduled by `call_later`/`call_at` (asyncio.TimerHandle).
class TimerHandle : public Handle {
 public:
  using Handle::Handle;
  /// The scheduled time, in loop seconds (as `loop.time()`).
  double when() const noexcept { return p_ ? detail::ns_to_seconds(p_->when_) : 0.0; }
};

/// The event loop; see the file comment.
class EventLoop final : public detail::LoopCore {
 public:
  using Clock = std::chrono::steady_clock;
  using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

  /// A new loop (`asyncio.new_event_loop()`); `virtual_time` as RunOptions.
  explicit EventLoop(bool virtual_time = false);
  ~EventLoop();

  // ---- running ----
  /// Runs until stop() is called (`loop.run_forever()`).
  void run_forever();
  /// Runs until `task` is done and returns its result (`loop.run_until_complete`).
  template <class T>
  decltype(auto) run_until_complete(Task<T>& task);
  /// Stops after the current iteration (`loop.stop()`).
  void stop() noexcept { stopping_ = true; }
  bool is_running() const noexcept { return running_; }
  bool is_closed() const noexcept override { return closed_; }
  /// Closes the loop: destroys tasks that never finished ("Task was destroyed
  /// but it is pending!"), closes libuv. RuntimeError while running.
  void close();

  // ---- time ----
  /// The loop's clock in seconds (monotonic, or virtual).
  double time() const noexcept { return static_cast<double>(now_ns()) * 1e-9; }
  std::int64_t now_ns() const override {
    return virtual_time_ ? virtual_now_ : real_now_ns();
  }
  bool virtual_time() const noexcept { return virtual_time_; }
  static std::int64_t real_now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
  }

  // ---- scheduling callbacks ----
  //
  // Lifetime trap (Python has none, its closures keep what they use alive):
  // a callback runs later, on the loop, usually after the coroutine or
  // function that scheduled it has moved on or ended. A lambda that captures
  // locals by reference (`[&]`) then reads a dead frame. Capture by value
  // (handles such as Task and Future are cheap to copy), or cancel the
  // returned Handle before the captured objects go.
  //
  //   loop.call_soon([&count] { ++count; });   // wrong if `count` dies first
  //   loop.call_soon([fut]() mutable { fut.set_result(1); });   // right: a copy
  //
  /// Schedules `fn(args...)` for the next iteration, after those already scheduled.
  /// `fn` and `args` are stored by value; see the lifetime note above.
  template <class F, class... Args>
  Handle call_soon(F&& fn, Args&&... args) {
    check_thread("call_soon");
    return Handle(schedule_soon(detail::make_handle(std::forward<F>(fn), std::forward<Args>(args)...)));
  }
  /// Schedules `fn(args...)` after `delay` (`loop.call_later`): at loop time
  /// `time() + delay`. A huge delay (hours::max()) means never.
  template <class Rep, class Period, class F, class... Args>
  TimerHandle call_later(std::chrono::duration<Rep, Period> delay, F&& fn, Args&&... args) {
    check_thread("call_later");
    auto when = detail::deadline_in(now_ns(), delay);
    return TimerHandle(schedule_timer(when, detail::make_handle(std::forward<F>(fn), std::forward<Args>(args)...)));
  }
  /// `loop.call_later(seconds, fn, *args)` with the delay in seconds, as Python's:
  /// inf or 1e300 mean never; NaN throws ValueError("Invalid delay: NaN (not a number)").
  template <class F, class... Args>
  TimerHandle call_later(double delay_seconds, F&& fn, Args&&... args) {
    check_thread("call_later");
    auto when = detail::deadline_in(now_ns(), delay_seconds);
    return TimerHandle(schedule_timer(when, detail::make_handle(std::forward<F>(fn), std::forward<Args>(args)...)));
  }
  /// Schedules `fn(args...)` at loop time `when` seconds (`loop.call_at`);
  /// `inf` means never; NaN throws ValueError.
  template <class F, class... Args>
  TimerHandle call_at(double when, F&& fn, Args&&... args) {
    check_thread("call_at");
    return TimerHandle(schedule_timer(detail::when_to_ns(when),
                                      detail::make_handle(std::forward<F>(fn), std::forward<Args>(args)...)));
  }
  /// Thread-safe call_soon: wakes the loop if it is waiting.
  template <class F, class... Args>
  Handle call_soon_threadsafe(F&& fn, Args&&... args) {
    return Handle(schedule_threadsafe(
        detail::make_handle<detail::HeapFnHandle>(std::forward<F>(fn), std::forward<Args>(args)...)));
  }

  // ---- futures and tasks ----
  template <class T = void>
  Future<T> create_future() {
    return Future<T>(*this);
  }
  /// Wraps a coroutine in a task scheduled on this loop (`loop.create_task`).
  /// `where` (leave it defaulted) is the call's file:line, which debug mode
  /// keeps for the report of an exception never retrieved.
  template <class T>
  Task<T> create_task(Coro<T> coro, std::string_view name = {},
                      detail::CallSite where = detail::CallSite::current());

  // ---- errors and debugging ----
  void set_exception_handler(ExceptionHandler handler) { handler_ = std::move(handler); }
  const ExceptionHandler& get_exception_handler() const noexcept { return handler_; }
  /// Calls the handler, or the default one (which logs to stderr).
  void call_exception_handler(const ExceptionContext& context) override;
  /// Logs `context` to stderr as asyncio's default handler does.
  void default_exception_handler(const ExceptionContext& context);
  void set_debug(bool enabled) noexcept { debug_ = enabled; }
  bool get_debug() const noexcept { return debug_; }
  /// Callbacks and task steps slower than this are reported in debug mode
  /// (0.1 s, as asyncio): on stderr, "Executing <Task ...> took 0.105 seconds"
  /// (CPython's line), the coroutines the step resumed and the file:line of the
  /// co_await it resumed from, the hint that CPU-bound work belongs in an
  /// executor, and every task (graph.hpp's dump).
  double slow_callback_duration = 0.1;

  // ---- work outside the loop (executors, ...) ----
  /// Counts work pending outside the loop whose completion will come back
  /// through call_soon_threadsafe, so that virtual time does not jump past it.
  void begin_external() noexcept { ++external_; }
  void end_external() noexcept { --external_; }

  // ---- the default executor (see concurrent_futures.hpp) ----
  void set_default_executor(std::shared_ptr<AbstractExecutor> executor) {
    default_executor_ = std::move(executor);
  }
  const std::shared_ptr<AbstractExecutor>& default_executor() const noexcept {
    return default_executor_;
  }
  /// Shuts the default executor down, waiting for its jobs (run() calls this).
  void shutdown_default_executor();
  /// Runs `fn(args...)` in `executor` and returns a Future for its result
  /// (`loop.run_in_executor`). `executor` is a ThreadPoolExecutor or ProcessPoolExecutor
  /// (by reference, pointer or shared_ptr), or nullptr for the default executor: a
  /// ThreadPoolExecutor created on first use. Defined in asyncio/executor_bridge.hpp, which
  /// this header includes at its end.
  template <class Executor, class F, class... Args>
  auto run_in_executor(Executor&& executor, F&& fn, Args&&... args);

  // ---- Unix signals (src/unix_signals.cpp) ----
  /// Calls `fn(args...)` on the loop, as a callback scheduled by call_soon, each
  /// time signal `sig` arrives (`loop.add_signal_handler`); replaces the
  /// handler `sig` had on this loop. CPython's rules: ValueError("invalid signal
  /// number N") for a number that is no signal; RuntimeError("Event loop is
  /// closed"); RuntimeError("add_signal_handler() only works in the main
  /// thread") from another thread (Python: "set_wakeup_fd only works in main
  /// thread..."); RuntimeError("sig 9 cannot be caught") for SIGKILL and
  /// SIGSTOP. A coroutine cannot be a handler (a compile error; Python's
  /// TypeError). Signals arrive in order; while the loop is busy it looks for
  /// them every 1024 iterations, and before each jump of virtual time.
  ///
  /// ```cpp
  /// loop.add_signal_handler(SIGTERM, [&] { stop.set(); });
  /// ```
  template <class F, class... Args>
  void add_signal_handler(int sig, F&& fn, Args&&... args) {
    static_assert(!detail::is_coro_v<std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&...>>,
                  "coroutines cannot be used with add_signal_handler()");
    add_signal_handle(sig, Handle(detail::make_handle(std::forward<F>(fn), std::forward<Args>(args)...)));
  }
  /// Removes the handler of `sig` (`loop.remove_signal_handler`): true if there
  /// was one, and the signal's disposition is the default again.
  bool remove_signal_handler(int sig);
  /// The loop's signal watchers (library internals: the Runner's Ctrl-C).
  detail::UnixSignals& unix_signals();

  // ---- network I/O (transports.hpp, protocols.hpp; src/tcp.cpp, unix_stream.cpp,
  // udp.cpp, dns.cpp, sock.cpp) ----
  using ProtocolFactory = std::function<std::shared_ptr<Protocol>()>;
  using DatagramProtocolFactory = std::function<std::shared_ptr<DatagramProtocol>()>;
  template <class P>
  using Connection = std::pair<std::shared_ptr<Transport>, std::shared_ptr<P>>;
  // The overloads without options are plain functions, not coroutines: g++ 12
  // destroys a default argument of class type twice when the call is in a
  // co_await expression, so the option structs have no default arguments.

  /// `loop.create_connection(protocol_factory, host, port)`: resolves `host`,
  /// connects to each address in turn, and returns (transport, protocol) once
  /// `connection_made` has been called. OSError (ConnectionRefusedError, ...)
  /// naming the address when every address failed; gaierror when `host` does
  /// not resolve.
  /// With `options.ssl`, the connection speaks TLS (ssl.hpp): the transport
  /// returned is the TLS layer's, returned once the handshake is done
  /// (SSLError / SSLCertVerificationError when it fails).
  [[nodiscard]] Coro<Connection<Protocol>> create_connection(ProtocolFactory protocol_factory, std::string host,
                                                             int port, ConnectionOptions options);
  [[nodiscard]] Coro<Connection<Protocol>> create_connection(ProtocolFactory protocol_factory, std::string host,
                                                             int port);
  /// `loop.create_server(protocol_factory, host, port, ...)`: listens on every
  /// address of `host` ("" = all interfaces; port 0 picks a free port).
  /// OSError "error while attempting to bind on address ..." when taken.
  [[nodiscard]] Coro<std::shared_ptr<Server>> create_server(ProtocolFactory protocol_factory, std::string host,
                                                            int port, ServerOptions options);
  [[nodiscard]] Coro<std::shared_ptr<Server>> create_server(ProtocolFactory protocol_factory, std::string host,
                                                            int port);
  /// The same on a list of hosts (Python's `host=[...]`).
  [[nodiscard]] Coro<std::shared_ptr<Server>> create_server(ProtocolFactory protocol_factory,
                                                            std::vector<std::string> hosts, int port,
                                                            ServerOptions options);
  [[nodiscard]] Coro<std::shared_ptr<Server>> create_server(ProtocolFactory protocol_factory,
                                                            std::vector<std::string> hosts, int port);
  /// `loop.start_tls(transport, protocol, sslcontext, ...)`: upgrades an open
  /// connection to TLS (ssl.hpp). `protocol` then receives the decrypted data;
  /// the TLS transport returned replaces `transport` for the application
  /// (`transport` must no longer be used directly). Returns once the handshake
  /// is done; on failure or cancellation `transport` is closed and the error
  /// thrown. TypeError when `sslcontext` is null.
  [[nodiscard]] Coro<std::shared_ptr<Transport>> start_tls(std::shared_ptr<Transport> transport,
                                                           std::shared_ptr<Protocol> protocol,
                                                           std::shared_ptr<ssl::SSLContext> sslcontext,
                                                           StartTLSOptions options);
  [[nodiscard]] Coro<std::shared_ptr<Transport>> start_tls(std::shared_ptr<Transport> transport,
                                                           std::shared_ptr<Protocol> protocol,
                                                           std::shared_ptr<ssl::SSLContext> sslcontext);
  /// `loop.create_unix_connection(protocol_factory, path)`.
  /// With `options.ssl`, TLS as create_connection's; `options.server_hostname`
  /// is then required (ValueError "you have to pass server_hostname when using ssl").
  [[nodiscard]] Coro<Connection<Protocol>> create_unix_connection(ProtocolFactory protocol_factory, std::string path,
                                                                  ConnectionOptions options);
  [[nodiscard]] Coro<Connection<Protocol>> create_unix_connection(ProtocolFactory protocol_factory, std::string path);
  /// `loop.create_unix_server(protocol_factory, path, ...)`: an existing socket
  /// file at `path` is removed first, as CPython does.
  [[nodiscard]] Coro<std::shared_ptr<Server>> create_unix_server(ProtocolFactory protocol_factory, std::string path,
                                                                 ServerOptions options);
  [[nodiscard]] Coro<std::shared_ptr<Server>> create_unix_server(ProtocolFactory protocol_factory, std::string path);
  /// `loop.create_datagram_endpoint(protocol_factory, local_addr, remote_addr)`:
  /// UDP. Addresses are numeric (resolve names with getaddrinfo first).
  [[nodiscard]] Coro<std::pair<std::shared_ptr<DatagramTransport>, std::shared_ptr<DatagramProtocol>>>
  create_datagram_endpoint(DatagramProtocolFactory protocol_factory, std::optional<SocketAddress> local_addr,
                           std::optional<SocketAddress> remote_addr = std::nullopt, DatagramOptions options = {});
  /// `loop.getaddrinfo(host, port, family=0, type=0, proto=0, flags=0)` on
  /// libuv's thread pool (never blocks the loop). gaierror on failure. An empty
  /// `port` is Python's None.
  [[nodiscard]] Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, std::string port, int family = 0,
                                                        int type = 0, int proto = 0, int flags = 0);
  [[nodiscard]] Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, int port, int family = 0, int type = 0,
                                                        int proto = 0, int flags = 0);
  /// `loop.getnameinfo(sockaddr, flags=0)` -> (host, service).
  [[nodiscard]] Coro<std::pair<std::string, std::string>> getnameinfo(SocketAddress sockaddr, int flags = 0);
  /// `loop.sock_recv(sock, n)`: up to n bytes from a non-blocking socket fd ("" at EOF).
  [[nodiscard]] Coro<std::string> sock_recv(int fd, std::size_t n);
  /// `loop.sock_sendall(sock, data)`: sends all of `data`.
  [[nodiscard]] Coro<void> sock_sendall(int fd, std::string data);
  /// `loop.sock_connect(sock, address)`: connects a non-blocking socket.
  [[nodiscard]] Coro<void> sock_connect(int fd, SocketAddress address);
  /// `loop.sock_accept(sock)` -> (new non-blocking fd, peer address).
  [[nodiscard]] Coro<std::pair<int, SocketAddress>> sock_accept(int fd);

  /// The underlying libuv loop, for the I/O parts of the library.
  uv_loop_s* uv_loop() noexcept;

  /// Starts tracing task slices to `path` (Chrome Trace Event Format), written at close().
  void enable_tracing(std::string path);
  /// On signal `signum` (SIGUSR1 by default), prints every task with its await
  /// chain to stderr (graph.hpp's print_all_tasks). `asyncio::run` asks for it
  /// when `ASYNCIO_DUMP_ON_SIGNAL=1`. The signal is handled when the loop next
  /// polls (a task that never yields delays it, as in Python).
  void dump_tasks_on_signal(int signum = SIGUSR1);

  friend std::ostream& operator<<(std::ostream& os, const EventLoop& loop);

  // Internals used by tasks.hpp/runners.hpp.
  void run_once();
  /// Before scheduling: RuntimeError("Event loop is closed") on a closed
  /// loop (CPython's `_check_closed`), and in debug mode the thread check.
  void check_thread(const char* what) const {
    if (debug_ | closed_) [[unlikely]] check_thread_slow(what);
  }
  /// Takes a reference-owning handle and puts it on the ready queue, which
  /// links it through itself: `h` must not be queued already (a handle run
  /// once per event, as a signal's, gets an entry per event: unix_signals.cpp).
  detail::HandleBase* schedule_soon(detail::HandleBase* h) {
    h->add_ref();  // one for the queue, one for the caller's Handle
    ready_.push(h);
    return h;
  }
  detail::HandleBase* schedule_timer(std::int64_t when, detail::HandleBase* h);
  // Puts `t` in the timer heap, which takes over one reference the caller holds.
  void push_timer(std::int64_t when, detail::TimerNode* t);
  detail::HandleBase* schedule_threadsafe(detail::HandleBase* h);
  /// Cancels every pending task and runs the loop until they are done
  /// (`asyncio.runners._cancel_all_tasks`).
  void cancel_all_tasks();

 private:
  struct Uv;
  void check_thread_slow(const char* what) const;
  void run_once_full();
  void run_ready(std::size_t n);
  void poll_io(std::int64_t timeout_ns);
  bool external_pending() const noexcept;
  void drain_threadsafe();
  void pop_cancelled_timers() noexcept;
  static void uncount_cancelled() noexcept;
  void run_debug(detail::Runnable* r);
  void add_signal_handle(int sig, Handle handle);
  void poll_signals();
  friend class detail::UnixSignals;
  void run_traced(detail::Runnable* r);

  detail::TimerHeap timers_;
  std::uint64_t timer_seq_ = 0;
  std::int64_t virtual_now_ = 0;
  std::int64_t last_poll_ns_ = 0;
  unsigned iterations_since_poll_ = 0;
  int external_ = 0;
  int signal_watchers_ = 0;  // uv_signal_t started on this loop (unreferenced)
  bool virtual_time_ = false;
  bool stopping_ = false;
  bool running_ = false;
  bool closed_ = false;
  std::thread::id thread_id_;
  std::unique_ptr<Uv> uv_;
  std::unique_ptr<detail::UnixSignals> signals_;
  ExceptionHandler handler_;
  std::shared_ptr<AbstractExecutor> default_executor_;
  std::unique_ptr<detail::Tracer> tracer_owner_;
  std::unique_ptr<detail::DumpSignal, detail::DumpSignalCloser> dump_signal_;

  std::mutex ts_mutex_;
  std::vector<detail::HandleBase*> ts_queue_;
  std::atomic<bool> ts_pending_{false};
};

/// The loop running on this thread (`asyncio.get_running_loop()`); throws
/// RuntimeError("no running event loop") outside one.
EventLoop& get_running_loop();

}  // namespace asyncio

// The definitions of run_in_executor and the bridge it uses (Asio's way: a class's template
// members are defined after the class, in their own header, included here).
#include "asyncio/executor_bridge.hpp"
