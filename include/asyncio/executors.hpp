#pragma once
/// \file executors.hpp
/// Thread and process pools (CPython's concurrent.futures) and their bridge into the event
/// loop (asyncio's loop.run_in_executor, wrap_future, to_thread).
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
/// The bridge into the loop (run_in_executor, wrap_future, to_thread) follows CPython's
/// futures._chain_future: the asyncio Future completes on the loop thread with the call's
/// result, exception or cancellation; cancelling it -- e.g. by cancelling the task that
/// awaits it -- cancels the call if it has not started (a running call runs to its end, and
/// its result is dropped). While a call is pending the loop counts it as external work, so
/// virtual time does not jump past it. With tracing on, each call is recorded in a lane for
/// its thread or process.
///
/// How the process pool starts its workers (it never forks a threaded process)
/// ----------------------------------------------------------------------------
/// CPython's "spawn" start method, for C++: a worker is the program itself, started again with
/// posix_spawn("/proc/self/exe") (vfork+exec, safe in a process that already has threads),
/// with the argument `--asyncio-process-pool-worker` and an environment variable
/// ASYNCIO_PROCESS_POOL_WORKER=<fd> naming its end of a socketpair. The program hands the
/// worker over to the library by calling asyncio::process_pool_worker_main(argc, argv) first
/// thing in main(): in a worker it serves calls on the socket and _exit(0)s when the parent
/// closes it, so the rest of main() never runs there; anywhere else it returns at once. This is
/// Python's rule under spawn, `if __name__ == "__main__":` around the program's own work:
///
///   int main(int argc, char** argv) {
///     asyncio::process_pool_worker_main(argc, argv);   // if __name__ == "__main__":
///     ...the program...
///   }
///
/// Only a process started by a pool (both the argument and the variable) becomes a worker,
/// and only where the program asks for it. Work done before main (constructors of globals)
/// runs in every worker too, so keep it cheap and side-effect free. A program that forgets the
/// call runs main() again in each worker; a pool the worker then creates refuses to start
/// workers (BrokenProcessPool naming this rule, Python's "bootstrapping phase" RuntimeError),
/// and the parent's calls fail with BrokenProcessPool when that worker exits.
///
/// Functions are registered by name at namespace scope (never inside main(): a worker serves
/// from the top of main, after every registration made during static initialisation):
///
///   mpz_class slow_factorial(int n) { ... }
///   ASYNCIO_REGISTER_PROCESS_FUNCTION(slow_factorial);
///   ...
///   asyncio::ProcessPoolExecutor pool;
///   auto f = pool.submit(slow_factorial, 10000);   // looks up "slow_factorial", sends (10000)
///
/// The function must be named unambiguously: an overloaded name (such as `factorial`, which
/// gmpxx.h also declares) cannot be passed as it is; pick one overload with a cast, and
/// register it with ASYNCIO_REGISTER_PROCESS_FUNCTION_AS("name", cast).
///
/// Arguments are converted to the function's parameter types and serialized with cereal's
/// binary archive; results come back the same way. Anything cereal serializes works (include
/// the cereal/types/<x>.hpp you need); this header adds the common standard containers and
/// GMP's mpz_class. A worker that dies (crash, kill -9) fails every pending future with
/// BrokenProcessPool and the pool refuses new work, as in Python.
///
/// Thread safety: every member of concurrent::Future, ThreadPoolExecutor and
/// ProcessPoolExecutor may be called from any thread. Done-callbacks run on the thread that
/// completes the future (a worker thread, or the process pool's manager thread), or at once on
/// the calling thread if the future is already done. run_in_executor, wrap_future, to_thread
/// and the asyncio Futures they return belong to the loop's thread, like the rest of asyncio.

#include <gmpxx.h>
#include <sys/types.h>

#include <cereal/archives/binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>
#include <algorithm>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "asyncio/events.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/trace.hpp"

namespace asyncio {

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

using ErasedFunction = void (*)();
/// Runs a registered function in a worker: deserializes its arguments from `args`, calls it,
/// returns its serialized result.
using ProcessInvoker = std::string (*)(ErasedFunction fn, std::string_view args);

/// Adds `fn` to the registry under `name` (idempotent; a name already taken by another
/// function aborts the program with a message: it is a static-initialisation error).
bool register_process_function_erased(std::string_view name, ErasedFunction fn,
                                      ProcessInvoker invoker);
/// The name `fn` was registered under; throws std::invalid_argument if it was not.
std::string_view process_function_name(ErasedFunction fn);
/// Runs the function registered as `name` on serialized arguments and returns its serialized
/// result (what a worker does with a request). Throws std::invalid_argument if nothing is
/// registered under `name`, and what the function throws.
std::string run_registered_function(std::string_view name, std::string_view args);

/// A worker rank of an MpiPoolExecutor (include/asyncio/mpi/executor.hpp) hands its serving
/// loop to process_pool_worker_main, which runs it instead of the rest of main().
void set_worker_rank_server(void (*serve)());

/// A read-only streambuf over bytes, so cereal can read a message in place.
class MemoryBuffer : public std::streambuf {
 public:
  explicit MemoryBuffer(std::string_view bytes) {
    char* p = const_cast<char*>(bytes.data());
    setg(p, p, p + bytes.size());
  }
};

template <class T>
std::string serialize(const T& value) {
  std::string out;
  {
    // A string-backed ostream without std::ostringstream's extra copy.
    struct StringBuffer : std::streambuf {
      explicit StringBuffer(std::string& s) : s_(s) {}
      std::streamsize xsputn(const char* p, std::streamsize n) override {
        s_.append(p, static_cast<std::size_t>(n));
        return n;
      }
      int_type overflow(int_type c) override {
        if (!traits_type::eq_int_type(c, traits_type::eof())) s_.push_back(traits_type::to_char_type(c));
        return traits_type::not_eof(c);
      }
      std::string& s_;
    } buffer(out);
    std::ostream os(&buffer);
    cereal::BinaryOutputArchive archive(os);
    archive(value);
  }
  return out;
}

template <class T>
void deserialize(std::string_view bytes, T& value) {
  MemoryBuffer buffer(bytes);
  std::istream is(&buffer);
  cereal::BinaryInputArchive archive(is);
  archive(value);
}

template <class R, class... P>
std::string invoke_serialized(ErasedFunction erased, std::string_view args) {
  auto fn = reinterpret_cast<R (*)(P...)>(erased);
  std::tuple<std::decay_t<P>...> values;
  deserialize(args, values);
  auto call = [&] {
    return std::apply([&](auto&... a) -> R { return fn(static_cast<P&&>(a)...); }, values);
  };
  if constexpr (std::is_void_v<R>) {
    call();
    return {};
  } else {
    return serialize(static_cast<const std::remove_cvref_t<R>&>(call()));
  }
}

/// One call submitted to a ProcessPoolExecutor, as its manager thread sees it.
class ProcessCall {
 public:
  virtual ~ProcessCall() = default;
  virtual ConcurrentCore& core() noexcept = 0;
  /// Deserializes the worker's reply into the future (or fails it if the bytes are bad).
  virtual void set_result_bytes(std::string_view bytes) noexcept = 0;

  std::string_view function;  // the registered name (registry storage lives forever)
  std::string args;           // serialized std::tuple of the parameters
};

template <class R>
class TypedProcessCall final : public ProcessCall {
 public:
  ConcurrentCore& core() noexcept override { return ConcurrentAccess::core(future); }
  void set_result_bytes(std::string_view bytes) noexcept override {
    std::exception_ptr error;
    try {
      if constexpr (std::is_void_v<R>) {
        future.set_result();
      } else {
        R value{};
        deserialize(bytes, value);
        future.set_result(std::move(value));
      }
      return;
    } catch (...) {
      error = std::current_exception();
    }
    core().set_exception_if_pending(std::move(error));
  }
  concurrent::Future<R> future;
};

}  // namespace detail

/// Registers `fn` under `name` so that ProcessPoolExecutor can run it in its workers (Python
/// pickles a function as its qualified name; the worker imports it). Call it at namespace
/// scope, before main (the macro below does): workers serve from the top of main().
template <class R, class... P>
bool register_process_function(std::string_view name, R (*fn)(P...)) {
  return detail::register_process_function_erased(
      name, reinterpret_cast<detail::ErasedFunction>(fn), &detail::invoke_serialized<R, P...>);
}

#define ASYNCIO_DETAIL_CONCAT2(a, b) a##b
#define ASYNCIO_DETAIL_CONCAT(a, b) ASYNCIO_DETAIL_CONCAT2(a, b)
/// Registers a free function for process pools under its own spelling:
/// `ASYNCIO_REGISTER_PROCESS_FUNCTION(slow_factorial);` at namespace scope.
#define ASYNCIO_REGISTER_PROCESS_FUNCTION(fn) ASYNCIO_REGISTER_PROCESS_FUNCTION_AS(#fn, fn)
/// The same under an explicit name; `fn` may be a cast that picks one overload.
#define ASYNCIO_REGISTER_PROCESS_FUNCTION_AS(name, fn)                              \
  [[maybe_unused]] static const bool ASYNCIO_DETAIL_CONCAT(asyncio_process_fn_, \
                                                           __COUNTER__) =        \
      ::asyncio::register_process_function(name, fn)

/// The worker start of the process pool, Python's `if __name__ == "__main__":` under spawn.
/// Call it first thing in main() of every program that uses a ProcessPoolExecutor (or an
/// MpiPoolExecutor): if this process is a worker -- started by a pool with the argument
/// `--asyncio-process-pool-worker` and ASYNCIO_PROCESS_POOL_WORKER set, or a worker rank under
/// mpirun -- it serves calls until its pool is done and ends the process with _exit (never
/// returning, running no atexit handler or static destructor); otherwise it returns at once and
/// does nothing. See the top of this header.
void process_pool_worker_main(int argc, char** argv);

/// A pool of worker processes that run registered functions
/// (concurrent.futures.ProcessPoolExecutor, "spawn" start method).
///
/// Workers start on demand, one per submit that finds no idle worker, up to max_workers
/// (default: the number of cores, Python's); each runs one call at a time. A call is
/// `running()` from the moment it is sent to a worker until its reply arrives; only calls
/// still queued can be cancelled. If a worker dies, every pending call fails with
/// BrokenProcessPool, the remaining workers are terminated and submit() throws
/// BrokenProcessPool from then on. An exception thrown by the function comes back as
/// RemoteError. See the top of this header for how workers start and what may be sent.
///
///   ASYNCIO_REGISTER_PROCESS_FUNCTION(slow_factorial);     // namespace scope
///   asyncio::ProcessPoolExecutor pool;                      // with ProcessPoolExecutor() as pool:
///   std::vector<mpz_class> r = pool.map(slow_factorial, numbers);   # list(pool.map(...))
///
/// Thread safety: all members may be called from any thread. A manager thread per pool sends
/// calls and completes futures (done-callbacks run on it).
class ProcessPoolExecutor : public AbstractExecutor {
 public:
  /// max_workers 0 means the number of cores.
  explicit ProcessPoolExecutor(std::size_t max_workers = 0);
  ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
  ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;
  ~ProcessPoolExecutor() override;

  /// Schedules fn(args...) in a worker. `fn` must be registered; `args` are converted to its
  /// parameter types and serialized now (later changes to them are not seen). Throws
  /// std::invalid_argument for an unregistered function.
  template <class R, class... P, class... Args>
  auto submit(R (*fn)(P...), Args&&... args) {
    static_assert(sizeof...(P) == sizeof...(Args),
                  "ProcessPoolExecutor::submit: pass exactly one argument per parameter");
    static_assert((std::is_constructible_v<std::decay_t<P>, Args&&> && ...),
                  "ProcessPoolExecutor::submit: an argument does not convert to its parameter");
    using Result = std::remove_cvref_t<R>;
    auto call = std::make_unique<detail::TypedProcessCall<Result>>();
    call->function = detail::process_function_name(reinterpret_cast<detail::ErasedFunction>(fn));
    call->args = detail::serialize(std::tuple<std::decay_t<P>...>(std::forward<Args>(args)...));
    concurrent::Future<Result> future = call->future;
    submit_call(std::move(call));
    return future;
  }

  /// fn applied to each element (each row of the zipped ranges), all submitted at once;
  /// results in input order.
  template <class R, class... P, std::ranges::input_range... Ranges>
    requires(sizeof...(Ranges) > 0)
  auto map(R (*fn)(P...), Ranges&&... ranges) {
    auto submit_one = [&](auto&&... row) { return submit(fn, std::forward<decltype(row)>(row)...); };
    auto futures = detail::submit_zipped(submit_one, std::index_sequence_for<Ranges...>{},
                                         std::forward<Ranges>(ranges)...);
    return concurrent::MapResult<std::remove_cvref_t<R>>(std::move(futures));
  }

  /// Stops accepting work. With cancel_futures, cancels the calls not yet sent to a worker.
  /// With wait, returns when every call has finished and every worker has exited (and been
  /// reaped). Safe to call more than once.
  void shutdown(bool wait = true, bool cancel_futures = false) override;

  std::size_t max_workers() const noexcept;
  /// The workers' process ids (Python: pool._processes), for diagnostics and tests.
  std::vector<pid_t> worker_pids() const;

  /// `<ProcessPoolExecutor max_workers=2 processes=2 queued=0 running=2 state=running>`
  friend std::ostream& operator<<(std::ostream& os, const ProcessPoolExecutor& pool);

  struct State;

 private:
  void submit_call(std::unique_ptr<detail::ProcessCall> call);
  std::shared_ptr<State> state_;
};

// ---- the bridge into the event loop (asyncio's run_in_executor, wrap_future, to_thread) -------

namespace detail {

/// Records where and when a call ran in the loop's trace (a lane per thread or process).
void trace_job(EventLoop& loop, Tracer& tracer, const ConcurrentCore::Job& job);

/// What a worker thread needs to hand a result to the loop: the loop, while the loop side of
/// the chain is alive. Guarded by `mutex`; the worker posts while holding it, so the loop side
/// cannot finish (nor the loop close under it) in between.
struct ChainLink {
  std::mutex mutex;
  EventLoop* loop = nullptr;  // null once the loop side is finished or abandoned
};

/// Loop side of wrap_future (CPython futures._chain_future): owns the asyncio future `dest`
/// until the concurrent future's state has been copied into it.
///
/// Invariants: used on the loop thread only (the worker holds a weak_ptr and the ChainLink).
/// While `dest` is pending it holds this object through a done callback (a deliberate cycle,
/// so a discarded future still completes and balances begin_external). The cycle ends in
/// finish() when `dest` is done, or in abandon() when the loop closes first: a timer that never
/// fires holds a CloseWatch, and a loop frees its timers when it closes.
template <class R>
class ChainedFuture final : public std::enable_shared_from_this<ChainedFuture<R>> {
 public:
  ChainedFuture(EventLoop& loop, concurrent::Future<R> source)
      : dest(loop.create_future<R>()), loop_(&loop), source_(std::move(source)) {}

  void start() {
    auto self = this->shared_from_this();
    link_ = std::make_shared<ChainLink>();
    link_->loop = loop_;
    loop_->begin_external();
    trace_await_label(*loop_, dest.impl(), "executor job");  // what its awaiter waits on, in traces
    // _call_check_cancel: when dest is done (or cancelled by its awaiting task).
    dest.impl().add_callback(new UserCallback(next_callback_id(), [self] { self->on_dest_done(); }));
    // Told when the loop drops its timers at close().
    constexpr std::int64_t kCentury = std::int64_t{100} * 365 * 24 * 3600 * 1'000'000'000;
    guard_ = loop_->schedule_timer(loop_->now_ns() + kCentury,
                                   make_handle([watch = CloseWatch(self)] {}));
    guard_->release();  // the heap's reference keeps it; guard_ is nulled when it goes
    // _call_set_state, on the thread that completes the source.
    source_.add_done_callback([link = link_, weak = std::weak_ptr<ChainedFuture>(self)](const auto&) {
      std::lock_guard lock(link->mutex);
      if (link->loop == nullptr) return;
      try {
        link->loop->call_soon_threadsafe([weak] {
          if (auto side = weak.lock()) side->deliver();
        });
      } catch (const RuntimeError&) {
        // the loop is closing: nobody will read the result
      }
    });
  }

  Future<R> dest;

 private:
  /// Destroyed with the guard timer's callback: at close() while the chain is still open, or
  /// after finish() cancelled the timer.
  struct CloseWatch {
    explicit CloseWatch(const std::shared_ptr<ChainedFuture>& s) : side(s) {}
    CloseWatch(CloseWatch&&) noexcept = default;
    CloseWatch& operator=(CloseWatch&&) = delete;
    ~CloseWatch() {
      if (auto s = side.lock()) {
        s->guard_ = nullptr;
        s->abandon();
      }
    }
    std::weak_ptr<ChainedFuture> side;
  };

  /// _copy_future_state(source, dest), on the loop thread.
  void deliver() {
    if (finished_ || dest.done()) return;
    if (Tracer* tracer = loop_->tracer()) [[unlikely]]
      trace_job(*loop_, *tracer, ConcurrentAccess::core(source_).job);
    if (source_.cancelled()) {
      dest.cancel();
      return;
    }
    if (auto e = source_.exception()) {
      dest.set_exception(std::move(e));
    } else if constexpr (std::is_void_v<R>) {
      dest.set_result();
    } else {
      dest.set_result(ConcurrentAccess::take(source_));
    }
  }

  void on_dest_done() {
    if (dest.cancelled()) source_.cancel();  // a call that has not started never will
    finish();
  }

  void finish() noexcept {
    if (finished_) return;
    finished_ = true;
    loop_->end_external();
    trace_forget_label(*loop_, dest.impl());
    if (guard_) guard_->cancel();
    close_link();
    dest = Future<R>();
  }

  void abandon() noexcept {
    if (finished_) return;
    finished_ = true;
    close_link();
    dest = Future<R>();  // may destroy dest, and with it the callback that owns us
  }

  void close_link() noexcept {
    std::lock_guard lock(link_->mutex);
    link_->loop = nullptr;
  }

  EventLoop* loop_;
  concurrent::Future<R> source_;
  std::shared_ptr<ChainLink> link_;
  HandleBase* guard_ = nullptr;  // the close-watch timer, while it exists
  bool finished_ = false;
};

/// The loop's default executor, created on first use: ThreadPoolExecutor(thread_name_prefix=
/// "asyncio"), as BaseEventLoop.run_in_executor(None, ...) does.
AbstractExecutor& default_executor(EventLoop& loop);

template <class F, class... Args>
using executor_result_t =
    std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;

template <class F>
constexpr bool is_function_pointer_v =
    std::is_pointer_v<std::decay_t<F>> && std::is_function_v<std::remove_pointer_t<std::decay_t<F>>>;

/// Submits to an executor known only at run time (the default, or an AbstractExecutor&).
template <class F, class... Args>
concurrent::Future<executor_result_t<F, Args...>> submit_dynamic(AbstractExecutor& executor,
                                                                 F&& fn, Args&&... args) {
  if (auto* threads = dynamic_cast<ThreadPoolExecutor*>(&executor))
    return threads->submit(std::forward<F>(fn), std::forward<Args>(args)...);
  if constexpr (is_function_pointer_v<F>) {
    if (auto* processes = dynamic_cast<ProcessPoolExecutor*>(&executor))
      return processes->submit(static_cast<std::decay_t<F>>(fn), std::forward<Args>(args)...);
  }
  throw RuntimeError(
      "run_in_executor: the executor is neither a ThreadPoolExecutor nor, for a registered "
      "function, a ProcessPoolExecutor");
}

/// The executor argument as a reference: nullptr (the loop's default), an executor by
/// reference, by pointer or by smart pointer.
template <class E, class F, class... Args>
auto submit_to(EventLoop& loop, E&& executor, F&& fn, Args&&... args) {
  if constexpr (std::is_null_pointer_v<std::remove_cvref_t<E>>) {
    return submit_dynamic(default_executor(loop), std::forward<F>(fn), std::forward<Args>(args)...);
  } else if constexpr (requires { *executor; }) {
    if (!executor) throw std::invalid_argument("run_in_executor: null executor");
    return submit_to(loop, *executor, std::forward<F>(fn), std::forward<Args>(args)...);
  } else {
    using Executor = std::remove_cvref_t<E>;
    if constexpr (requires { executor.submit(std::forward<F>(fn), std::forward<Args>(args)...); }) {
      // A concrete pool (thread, process, MPI): its own submit.
      return executor.submit(std::forward<F>(fn), std::forward<Args>(args)...);
    } else {
      static_assert(std::is_base_of_v<AbstractExecutor, Executor>,
                    "run_in_executor: pass nullptr or an executor");
      return submit_dynamic(executor, std::forward<F>(fn), std::forward<Args>(args)...);
    }
  }
}

}  // namespace detail

/// Wraps a concurrent future in an asyncio Future of `loop` (asyncio.wrap_future): the asyncio
/// future completes, on the loop thread, with the concurrent one's result, exception or
/// cancellation; cancelling the asyncio future (e.g. by cancelling the task that awaits it)
/// cancels the concurrent one, which stops the call only if it has not started.
///
/// Rule (asyncio's): the returned Future belongs to `loop` and must not outlive it.
template <class R>
Future<R> wrap_future(concurrent::Future<R> future, EventLoop& loop) {
  auto chain = std::make_shared<detail::ChainedFuture<R>>(loop, std::move(future));
  chain->start();
  return chain->dest;
}
/// wrap_future on the running loop.
template <class R>
Future<R> wrap_future(concurrent::Future<R> future) {
  return wrap_future(std::move(future), get_running_loop());
}

/// loop.run_in_executor(executor, fn, args...): see events.hpp.
template <class Executor, class F, class... Args>
auto EventLoop::run_in_executor(Executor&& executor, F&& fn, Args&&... args) {
  check_thread("run_in_executor");
  if (is_closed()) throw RuntimeError("Event loop is closed");
  auto source = detail::submit_to(*this, std::forward<Executor>(executor), std::forward<F>(fn),
                                  std::forward<Args>(args)...);
  return wrap_future(std::move(source), *this);
}

/// Runs fn(args...) in the running loop's default executor and returns its result
/// (asyncio.to_thread): `auto data = co_await asyncio::to_thread(read_file, path);`.
/// The function and arguments are copied into the coroutine, so temporaries are safe.
template <class F, class... Args>
Coro<detail::executor_result_t<F, Args...>> to_thread(F fn, Args... args) {
  auto future = get_running_loop().run_in_executor(nullptr, std::move(fn), std::move(args)...);
  if constexpr (std::is_void_v<detail::executor_result_t<F, Args...>>) {
    co_await future;
  } else {
    co_return std::move(co_await future);
  }
}

}  // namespace asyncio

// GMP integers cross the process boundary as a sign and their limbs (both ends are the same
// program on the same machine, so the native limb layout is shared).
namespace cereal {

template <class Archive>
void save(Archive& archive, const mpz_class& value) {
  const mp_limb_t* limbs = mpz_limbs_read(value.get_mpz_t());
  std::vector<mp_limb_t> magnitude(limbs, limbs + mpz_size(value.get_mpz_t()));
  archive(sgn(value), magnitude);
}

template <class Archive>
void load(Archive& archive, mpz_class& value) {
  int sign = 0;
  std::vector<mp_limb_t> magnitude;
  archive(sign, magnitude);
  const auto n = static_cast<mp_size_t>(magnitude.size());
  mp_limb_t* limbs = mpz_limbs_write(value.get_mpz_t(), std::max<mp_size_t>(n, 1));
  std::copy(magnitude.begin(), magnitude.end(), limbs);
  mpz_limbs_finish(value.get_mpz_t(), sign < 0 ? -n : n);
}

}  // namespace cereal
