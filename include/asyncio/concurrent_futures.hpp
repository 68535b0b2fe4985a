#pragma once
/// \file concurrent_futures.hpp
/// CPython's concurrent.futures: its futures, errors and Executor (concurrent/futures/_base.py)
/// and ThreadPoolExecutor (thread.py). ProcessPoolExecutor (process.py) is in
/// asyncio/process_pool.hpp; the bridge into the event loop (loop.run_in_executor,
/// asyncio.wrap_future) in asyncio/executor_bridge.hpp, which events.hpp includes;
/// asyncio.to_thread in asyncio/threads.hpp. asyncio/executors.hpp includes them all.
///
/// Public names (the Python name each one re-creates is on the right):
///
///   asyncio::concurrent::Future<T>         concurrent.futures.Future
///   asyncio::concurrent::MapResult<R>      the iterator Executor.map() returns
///   asyncio::concurrent::CancelledError    concurrent.futures.CancelledError (not asyncio's)
///   asyncio::concurrent::TimeoutError      TimeoutError (= asyncio::TimeoutError, as in 3.11)
///   asyncio::concurrent::InvalidStateError concurrent.futures.InvalidStateError
///   asyncio::ThreadPoolExecutor            concurrent.futures.ThreadPoolExecutor
///   asyncio::ProcessPoolExecutor           concurrent.futures.ProcessPoolExecutor
///   asyncio::BrokenExecutor                concurrent.futures.BrokenExecutor
///   asyncio::BrokenThreadPool              concurrent.futures.thread.BrokenThreadPool
///   asyncio::BrokenProcessPool             concurrent.futures.process.BrokenProcessPool
///   asyncio::RemoteError                   an exception raised in a worker process (Python
///                                          re-raises the pickled exception, with a
///                                          _RemoteTraceback as its __cause__)
///   ASYNCIO_REGISTER_PROCESS_FUNCTION(f)   what pickling a module-level function by name does
///   loop.run_in_executor(executor, f, a...) loop.run_in_executor(executor, f, *a)
///   asyncio::wrap_future(concurrent_future) asyncio.wrap_future(concurrent_future)
///   asyncio::to_thread(f, a...)            asyncio.to_thread(f, *a)
///
/// Python                                         C++
/// ---------------------------------------------  ---------------------------------------------
/// with ThreadPoolExecutor() as pool:              {
///     f = pool.submit(fn, 1, 2)                     asyncio::ThreadPoolExecutor pool;
///     print(f.result())                             auto f = pool.submit(fn, 1, 2);
///     for r in pool.map(fn, xs, ys): ...            fmt::print("{}\n", f.result());
///                                                   for (auto& r : pool.map(fn, xs, ys)) ...
///                                                 }   // the destructor is shutdown(wait=True)
/// f.result(timeout=0.5)                           f.result(500ms)
/// f.add_done_callback(cb)                         f.add_done_callback([](const auto& f) {...})
/// pool.shutdown(wait=False, cancel_futures=True)  pool.shutdown(false, true)
/// list(pool.map(fn, xs))                          std::vector<R> v = pool.map(fn, xs);
/// r = await loop.run_in_executor(None, fn, x)     auto r = co_await loop.run_in_executor(nullptr, fn, x);
/// r = await loop.run_in_executor(pool, fn, x)     auto r = co_await loop.run_in_executor(pool, fn, x);
/// r = await asyncio.to_thread(fn, x)              auto r = co_await asyncio::to_thread(fn, x);
///
/// Differences from Python, all forced by C++:
///  - ProcessPoolExecutor runs only *registered* free functions (see below), with arguments and
///    results that cereal can serialize; Python pickles any module-level function by name.
///  - An exception thrown in a worker process comes back as asyncio::RemoteError whose what()
///    is "<type>: <message>" (e.g. "std::invalid_argument: n must be positive"): C++ cannot
///    re-create an arbitrary exception type from its name. (A thread pool rethrows the
///    exception object itself.)
///  - map() has no `timeout` or `chunksize`; it submits every call at once, as Python's does,
///    and returns a single-pass range (a Python generator) that also converts to a vector.
///  - Destroying an executor is `with`'s exit: shutdown(wait=true). shutdown(wait=false)
///    returns at once, but the destructor still waits for the workers (C++ has no interpreter
///    exit that would join them later).
///  - Python's ThreadPoolExecutor and ProcessPoolExecutor refuse max_workers <= 0; here 0
///    means the default.
///
/// ProcessPoolExecutor's rules (registered functions, the worker start in main, what can be
/// sent) are in asyncio/process_pool.hpp; the bridge into the loop's in
/// asyncio/executor_bridge.hpp.
///
/// Thread safety: every member of concurrent::Future, ThreadPoolExecutor and
/// ProcessPoolExecutor may be called from any thread. Done-callbacks run on the thread that
/// completes the future (a worker thread, or the process pool's manager thread), or at once on
/// the calling thread if the future is already done. run_in_executor, wrap_future, to_thread
/// and the asyncio Futures they return belong to the loop's thread, like the rest of asyncio.

#include <algorithm>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "asyncio/exceptions.hpp"

namespace asyncio {

/// What every executor is (concurrent.futures.Executor), as far as the loop needs it: `run()`
/// shuts the default executor down through it. run_in_executor takes any of them.
class AbstractExecutor {
 public:
  virtual ~AbstractExecutor() = default;
  virtual void shutdown(bool wait = true, bool cancel_futures = false) = 0;
};

/// Raised when an executor has become non-functional after a severe failure
/// (concurrent.futures.BrokenExecutor, a RuntimeError).
class BrokenExecutor : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

/// A ThreadPoolExecutor whose initializer threw (concurrent.futures.thread.BrokenThreadPool).
class BrokenThreadPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

/// A ProcessPoolExecutor one of whose workers died (concurrent.futures.process.BrokenProcessPool).
class BrokenProcessPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

/// An exception thrown by a function running in a worker process. what() is
/// "<type>: <message>", like the last line of Python's traceback; type_name() and message()
/// give the parts (type_name() is the demangled C++ type, e.g. "std::invalid_argument").
class RemoteError : public std::runtime_error {
 public:
  RemoteError(std::string type_name, std::string message);
  const std::string& type_name() const noexcept { return type_name_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string type_name_;
  std::string message_;
};

namespace concurrent {

/// Base of the errors concurrent.futures defines (concurrent.futures._base.Error).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The future was cancelled (concurrent.futures.CancelledError).
class CancelledError : public Error {
 public:
  CancelledError() : Error("the future was cancelled") {}
};

/// result()/exception() gave up waiting: Python's built-in TimeoutError, which
/// concurrent.futures.TimeoutError and asyncio.TimeoutError both name since 3.11.
using TimeoutError = asyncio::TimeoutError;

/// set_result()/set_exception() on a future that is already done
/// (concurrent.futures.InvalidStateError).
class InvalidStateError : public Error {
 public:
  using Error::Error;
};

}  // namespace concurrent

namespace detail {

/// Demangled C++ type of the exception held by `e` ("std::invalid_argument"); see
/// asyncio::exception_type_name for Python's name ("ValueError").
std::string cxx_exception_type(const std::exception_ptr& e);

/// A future's life (concurrent.futures._base's PENDING ... FINISHED).
enum class ConcurrentState : unsigned char { pending, running, cancelled, cancelled_and_notified, finished };

/// The type-independent part of a concurrent future: state machine, lock, condition,
/// exception, callbacks.
///
/// Invariants: state only moves pending -> running -> finished, pending -> cancelled ->
/// cancelled_and_notified, or pending -> finished; the value (in ConcurrentShared<T>) is written
/// before the state becomes finished, under the lock, and never after, so a reader that saw
/// `finished` under the lock may read it without the lock. Callbacks run exactly once, after
/// the state is final, outside the lock.
class ConcurrentCore : public std::enable_shared_from_this<ConcurrentCore> {
 public:
  using Callback = std::function<void(ConcurrentCore&)>;

  ConcurrentCore() = default;
  ConcurrentCore(const ConcurrentCore&) = delete;
  ConcurrentCore& operator=(const ConcurrentCore&) = delete;
  virtual ~ConcurrentCore() = default;

  bool cancel();
  bool cancelled() const;
  bool running() const;
  bool done() const;
  ConcurrentState state() const;
  bool set_running_or_notify_cancel();
  void set_exception(std::exception_ptr e);
  /// Sets the exception unless the future is already done (used when a pool breaks).
  bool set_exception_if_pending(std::exception_ptr e);
  void add_done_callback(Callback cb);

  /// Waits until done (or the deadline), then: throws CancelledError if cancelled,
  /// TimeoutError if still not done, and returns the stored exception (null on success).
  std::exception_ptr wait_done(const std::chrono::steady_clock::time_point* deadline) const;

  /// Completes the future: `store()` runs under the lock (moves the value in), then the
  /// state becomes finished, waiters wake and callbacks run.
  template <class Store>
  void finish(Store&& store) {
    std::vector<Callback> callbacks;
    {
      std::lock_guard lock(mutex_);
      if (done_locked()) throw_invalid_state_locked();
      store();
      state_ = ConcurrentState::finished;
      callbacks.swap(callbacks_);
      done_.notify_all();
    }
    run_callbacks(std::move(callbacks));
  }

  /// The type the future's result has, for the repr.
  virtual const std::type_info& result_type() const noexcept = 0;

  /// Where and when the call ran, for traces: written by the executor before it completes
  /// the future, read once the future is done. Times are steady_clock nanoseconds.
  struct Job {
    std::uint32_t worker = 0;  // pool thread number (see pool_thread_name) or process id
    bool in_process = false;
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    const char* what = nullptr;  // the registered function's name, for process pools
  } job;
  friend std::ostream& operator<<(std::ostream& os, const ConcurrentCore& f);

 private:
  bool done_locked() const noexcept;
  [[noreturn]] void throw_invalid_state_locked() const;
  void run_callbacks(std::vector<Callback> callbacks);
  void invoke_callback(Callback& cb) noexcept;

  mutable std::mutex mutex_;
  mutable std::condition_variable done_;
  ConcurrentState state_ = ConcurrentState::pending;
  std::exception_ptr exception_;
  std::vector<Callback> callbacks_;
};

template <class T>
class ConcurrentShared final : public ConcurrentCore {
 public:
  const std::type_info& result_type() const noexcept override { return typeid(T); }
  std::optional<T> value;
};

template <>
class ConcurrentShared<void> final : public ConcurrentCore {
 public:
  const std::type_info& result_type() const noexcept override { return typeid(void); }
};

struct ConcurrentAccess;

}  // namespace detail

namespace concurrent {

/// A thread-safe handle on the result of a call running elsewhere (concurrent.futures.Future).
///
/// Copies share one state, like Python references to one Future object. A default-constructed
/// Future is pending; executors complete it through set_running_or_notify_cancel() and
/// set_result()/set_exception(), which are public (as in Python) for executor implementations
/// and tests. No event loop is involved: result() blocks the calling thread.
///
///   asyncio::ThreadPoolExecutor pool;
///   asyncio::concurrent::Future<int> f = pool.submit([] { return 6 * 7; });
///   f.add_done_callback([](const auto& f) { fmt::print("done: {}\n", f.result()); });
///   int v = f.result();          // 42; throws what the call threw
///
/// Thread safety: every member may be called from any thread.
template <class T>
class Future {
 public:
  using value_type = T;

  /// A new pending future (Python: Future(); "should not be called by clients" except
  /// executors and tests).
  Future() : state_(std::make_shared<detail::ConcurrentShared<T>>()) {}

  /// Cancels the call if it has not started: true if the future is (now) cancelled.
  bool cancel() { return state_->cancel(); }
  bool cancelled() const { return state_->cancelled(); }
  /// True while the call is executing (a process pool: once sent to a worker).
  bool running() const { return state_->running(); }
  /// True once the call finished or was cancelled.
  bool done() const { return state_->done(); }

  /// Waits for the call and returns its value (a copy: other handles may read it too).
  /// Throws what the call threw, or CancelledError.
  T result() const { return get(state_->wait_done(nullptr)); }
  /// The same, giving up after `timeout` with TimeoutError.
  template <class Rep, class Period>
  T result(std::chrono::duration<Rep, Period> timeout) const {
    auto deadline = deadline_after(timeout);
    return get(state_->wait_done(&deadline));
  }

  /// Waits for the call; returns the exception it threw, or null if it returned.
  /// Throws CancelledError if cancelled.
  std::exception_ptr exception() const { return state_->wait_done(nullptr); }
  template <class Rep, class Period>
  std::exception_ptr exception(std::chrono::duration<Rep, Period> timeout) const {
    auto deadline = deadline_after(timeout);
    return state_->wait_done(&deadline);
  }

  /// Calls `fn(future)` when the future is done or cancelled: on the thread that completes it,
  /// or at once if it is already done. Callbacks run in the order they were added; an
  /// exception a callback throws is reported on stderr and ignored, as Python logs it.
  template <std::invocable<const Future&> F>
  void add_done_callback(F&& fn) {
    state_->add_done_callback(
        [fn = std::forward<F>(fn)](detail::ConcurrentCore& core) mutable {
          fn(Future(std::static_pointer_cast<detail::ConcurrentShared<T>>(core.shared_from_this())));
        });
  }

  /// Marks the future running, or returns false if it was cancelled (then the call must not
  /// run). Executors call this just before starting the call.
  bool set_running_or_notify_cancel() { return state_->set_running_or_notify_cancel(); }

  /// Completes the future with a value. Throws InvalidStateError if it is already done.
  template <class U = T>
    requires(!std::is_void_v<T> && std::constructible_from<T, U &&>)
  void set_result(U&& value) {
    state_->finish([&] { state_->value.emplace(std::forward<U>(value)); });
  }
  void set_result()
    requires std::is_void_v<T>
  {
    state_->finish([] {});
  }
  /// Completes the future with an exception. Throws InvalidStateError if it is already done.
  void set_exception(std::exception_ptr e) { state_->set_exception(std::move(e)); }

  friend bool operator==(const Future& a, const Future& b) { return a.state_ == b.state_; }
  /// `<Future at 0x55d0c2a0 state=finished returned int>`, as Python's repr.
  friend std::ostream& operator<<(std::ostream& os, const Future& f) { return os << *f.state_; }

 private:
  friend struct detail::ConcurrentAccess;
  explicit Future(std::shared_ptr<detail::ConcurrentShared<T>> s) : state_(std::move(s)) {}

  template <class Rep, class Period>
  static std::chrono::steady_clock::time_point deadline_after(
      std::chrono::duration<Rep, Period> timeout) {
    auto now = std::chrono::steady_clock::now();
    if (timeout <= timeout.zero()) return now;
    if (std::chrono::duration<double>(timeout) >
        std::chrono::duration<double>(std::chrono::steady_clock::time_point::max() - now))
      return std::chrono::steady_clock::time_point::max();
    return now + std::chrono::ceil<std::chrono::steady_clock::duration>(timeout);
  }

  T get(const std::exception_ptr& e) const {
    if (e) std::rethrow_exception(e);
    if constexpr (!std::is_void_v<T>) return *state_->value;
  }

  std::shared_ptr<detail::ConcurrentShared<T>> state_;
};

}  // namespace concurrent

namespace detail {

/// What executors need beyond the public Future interface.
struct ConcurrentAccess {
  template <class T>
  static ConcurrentCore& core(const concurrent::Future<T>& f) {
    return *f.state_;
  }
  /// Moves the value out of a done future that nobody else reads (map()'s own futures).
  template <class T>
  static T take(concurrent::Future<T>& f) {
    auto e = f.state_->wait_done(nullptr);
    if (e) std::rethrow_exception(e);
    if constexpr (!std::is_void_v<T>) return std::move(*f.state_->value);
  }
};

}  // namespace detail

namespace concurrent {

/// The results of Executor::map(), in the order of the inputs (Python: the generator map()
/// returns). Iterating waits for each result in turn and throws, at that position, what its
/// call threw. As with Python's generator, once iteration has begun, destroying the range
/// cancels the calls that have not started; a range never iterated cancels nothing. It
/// converts to std::vector<R> (Python's list(pool.map(...))).
///
/// Thread safety: a MapResult is used by one thread at a time.
template <class R>
class MapResult {
  static_assert(!std::is_void_v<R>, "map() of a function returning void: use submit()");

 public:
  explicit MapResult(std::vector<Future<R>> futures) : futures_(std::move(futures)) {}
  MapResult(MapResult&& other) noexcept
      : futures_(std::move(other.futures_)),
        current_(std::move(other.current_)),
        position_(other.position_),
        started_(other.started_) {
    other.futures_.clear();
    other.started_ = false;
  }
  MapResult& operator=(MapResult&&) = delete;
  ~MapResult() {
    if (!started_) return;
    for (std::size_t i = position_; i < futures_.size(); ++i) futures_[i].cancel();
  }

  class iterator {
   public:
    using value_type = R;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    R& operator*() const { return owner_->current(); }
    R* operator->() const { return &owner_->current(); }
    iterator& operator++() {
      owner_->advance();
      return *this;
    }
    void operator++(int) { owner_->advance(); }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.at_end(); }

   private:
    bool at_end() const { return owner_->position_ >= owner_->futures_.size(); }
    friend class MapResult;
    explicit iterator(MapResult* owner) : owner_(owner) {}
    MapResult* owner_ = nullptr;
  };

  iterator begin() {
    started_ = true;
    return iterator(this);
  }
  std::default_sentinel_t end() const { return {}; }
  std::size_t size() const { return futures_.size(); }

  /// Waits for every result, in order (list(pool.map(fn, xs))).
  std::vector<R> to_vector() {
    std::vector<R> out;
    out.reserve(futures_.size());
    for (auto& r : *this) out.push_back(std::move(r));
    return out;
  }
  operator std::vector<R>() && { return to_vector(); }

 private:
  R& current() {
    if (!current_) current_.emplace(detail::ConcurrentAccess::take(futures_.at(position_)));
    return *current_;
  }
  void advance() {
    current_.reset();
    ++position_;
  }

  std::vector<Future<R>> futures_;
  std::optional<R> current_;
  std::size_t position_ = 0;
  bool started_ = false;
};

}  // namespace concurrent

namespace detail {

/// A pool thread, as a WorkItem sees it.
class PoolThread {
 public:
  /// The call has returned; its future is about to complete. The pool counts the thread idle
  /// from then on, so a submit made once result() returns reuses it.
  virtual void call_returned() noexcept = 0;
  std::uint32_t number = 0;  // for traces: see pool_thread_name

 protected:
  ~PoolThread() = default;
};

/// "ThreadPool-0_1": the name of the pool thread with this number (0: not a pool thread).
std::string pool_thread_name(std::uint32_t number);

inline std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// One call queued in a ThreadPoolExecutor.
class WorkItem {
 public:
  virtual ~WorkItem() = default;
  /// Runs the call unless its future was cancelled; completes the future.
  virtual void run(PoolThread& thread) noexcept = 0;
  virtual ConcurrentCore& core() noexcept = 0;
};

template <class R, class Fn>
class ThreadWorkItem final : public WorkItem {
 public:
  ThreadWorkItem(concurrent::Future<R> future, Fn fn)
      : future_(std::move(future)), fn_(std::move(fn)) {}
  void run(PoolThread& thread) noexcept override {
    if (!future_.set_running_or_notify_cancel()) {
      thread.call_returned();
      return;
    }
    auto& job = core().job;
    job.worker = thread.number;
    job.start_ns = steady_now_ns();
    auto returned = [&] {
      job.end_ns = steady_now_ns();
      thread.call_returned();
    };
    std::exception_ptr error;
    try {
      if constexpr (std::is_void_v<R>) {
        fn_();
        returned();
        future_.set_result();
      } else {
        R value = fn_();
        returned();
        future_.set_result(std::move(value));
      }
      return;
    } catch (...) {
      error = std::current_exception();
    }
    returned();
    future_.set_exception(std::move(error));
  }
  ConcurrentCore& core() noexcept override { return ConcurrentAccess::core(future_); }

 private:
  concurrent::Future<R> future_;
  Fn fn_;
};

/// Submits fn(row...) for each row of the zipped ranges, in order.
template <class Submit, class... Ranges, std::size_t... I>
auto submit_zipped(Submit& submit, std::index_sequence<I...>, Ranges&&... ranges) {
  using Future = decltype(submit(*std::ranges::begin(ranges)...));
  std::vector<Future> futures;
  auto its = std::make_tuple(std::ranges::begin(ranges)...);
  auto ends = std::make_tuple(std::ranges::end(ranges)...);
  if constexpr ((std::ranges::sized_range<Ranges> && ...))
    futures.reserve(std::min({static_cast<std::size_t>(std::ranges::size(ranges))...}));
  while (((std::get<I>(its) != std::get<I>(ends)) && ...)) {
    futures.push_back(submit(*std::get<I>(its)...));
    (++std::get<I>(its), ...);
  }
  return futures;
}

}  // namespace detail

/// A pool of threads that run submitted calls (concurrent.futures.ThreadPoolExecutor).
///
/// Threads start on demand, one per submit that finds no idle thread, up to max_workers
/// (default min(32, cores + 4), Python's). C++ has no GIL: CPU-bound calls run in parallel.
///
///   asyncio::ThreadPoolExecutor pool;                 // with ThreadPoolExecutor() as pool:
///   auto f = pool.submit(slow_factorial, 10000);     //     f = pool.submit(factorial, 10000)
///   std::vector<mpz_class> r = pool.map(slow_factorial, numbers);   # list(pool.map(...))
///
/// submit() copies (or moves) the callable and its arguments into the pool, as std::thread
/// does; pass std::ref() to share. Lifecycle: running -> shut down (submit throws
/// std::runtime_error "cannot schedule new futures after shutdown") or broken (an initializer
/// threw: submit throws BrokenThreadPool). The destructor is shutdown(wait=true).
///
/// Thread safety: all members may be called from any thread, including from calls running in
/// the pool (shutdown(wait=true) from a pool thread does not wait for that thread itself).
class ThreadPoolExecutor : public AbstractExecutor {
 public:
  /// max_workers 0 means Python's default, min(32, cores + 4). thread_name_prefix names the
  /// threads "<prefix>_<n>" (the OS keeps 15 characters); initializer runs first in each new
  /// thread, and if it throws, the pool is broken.
  explicit ThreadPoolExecutor(std::size_t max_workers = 0, std::string thread_name_prefix = {},
                              std::function<void()> initializer = {});
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
  ~ThreadPoolExecutor() override;

  /// Schedules fn(args...) and returns its future.
  template <class F, class... Args>
    requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
  auto submit(F&& fn, Args&&... args) {
    using R = std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;
    auto call = [f = std::forward<F>(fn), ... a = std::forward<Args>(args)]() mutable -> R {
      return std::invoke(std::move(f), std::move(a)...);
    };
    concurrent::Future<R> future;
    submit_item(std::make_unique<detail::ThreadWorkItem<R, decltype(call)>>(future, std::move(call)));
    return future;
  }

  /// fn applied to each element (to each row of the zipped ranges, stopping at the shortest),
  /// all submitted at once; results in input order.
  template <class F, std::ranges::input_range... Ranges>
    requires(sizeof...(Ranges) > 0)
  auto map(F&& fn, Ranges&&... ranges) {
    auto submit_one = [&](auto&&... row) { return submit(fn, std::forward<decltype(row)>(row)...); };
    auto futures = detail::submit_zipped(submit_one, std::index_sequence_for<Ranges...>{},
                                         std::forward<Ranges>(ranges)...);
    using R = typename decltype(futures)::value_type::value_type;
    return concurrent::MapResult<R>(std::move(futures));
  }

  /// Stops accepting work. With cancel_futures, cancels the calls that have not started;
  /// the others still run. With wait, returns when they have all finished and every thread
  /// has exited. Safe to call more than once.
  void shutdown(bool wait = true, bool cancel_futures = false) override;

  std::size_t max_workers() const noexcept;
  /// Python's default max_workers: min(32, cores + 4).
  static std::size_t default_max_workers() noexcept;

  /// `<ThreadPoolExecutor max_workers=6 threads=2 idle=1 queued=0 state=running>`
  friend std::ostream& operator<<(std::ostream& os, const ThreadPoolExecutor& pool);

  struct State;

 private:
  void submit_item(std::unique_ptr<detail::WorkItem> item);
  std::shared_ptr<State> state_;
};

namespace detail {

/// A registered free function, type-erased (process pools run functions by name).
using ErasedFunction = void (*)();
/// Submits a registered function to a process pool from its parameters, already converted to
/// their types (`params`: a `std::tuple<std::decay_t<P>...>`), storing the call's
/// `concurrent::Future<R>` in `*future`: how run_in_executor reaches a ProcessPoolExecutor
/// known only as an AbstractExecutor (asyncio/process_pool.hpp registers one per function).
using ErasedProcessSubmit = void (*)(AbstractExecutor& pool, ErasedFunction fn, const void* params,
                                     void* future);
/// If `executor` is a ProcessPoolExecutor, how to submit `fn` to it (throws
/// std::invalid_argument if `fn` is not registered); null otherwise.
ErasedProcessSubmit process_pool_submitter(AbstractExecutor& executor, ErasedFunction fn);

}  // namespace detail

}  // namespace asyncio
