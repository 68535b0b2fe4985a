#pragma once
/// \file executor_bridge.hpp
/// The bridge from concurrent.futures into the event loop: asyncio.wrap_future (CPython's
/// asyncio/futures.py wrap_future and _chain_future) and the definition of
/// loop.run_in_executor (base_events.py), declared in events.hpp. events.hpp includes this
/// header at its end (Asio's way with a class's template members: declarations first, their
/// definitions after), so `loop.run_in_executor(...)` works wherever EventLoop is known.
///
/// The bridge into the loop (run_in_executor, wrap_future, to_thread) follows CPython's
/// futures._chain_future: the asyncio Future completes on the loop thread with the call's
/// result, exception or cancellation; cancelling it -- e.g. by cancelling the task that
/// awaits it -- cancels the call if it has not started (a running call runs to its end, and
/// its result is dropped). While a call is pending the loop counts it as external work, so
/// virtual time does not jump past it. With tracing on, each call is recorded in a lane for
/// its thread or process.
///
/// run_in_executor, wrap_future and the asyncio Futures they return belong to the loop's
/// thread, like the rest of asyncio.

#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

#include "asyncio/concurrent_futures.hpp"
#include "asyncio/events.hpp"
#include "asyncio/detail/trace.hpp"

namespace asyncio {

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

/// Submits a registered function to a process pool known only as an AbstractExecutor,
/// through the submitter its registration made (asyncio/process_pool.hpp).
template <class R, class... P, class... Args>
concurrent::Future<std::remove_cvref_t<R>> submit_registered(ErasedProcessSubmit submit,
                                                             AbstractExecutor& executor,
                                                             R (*fn)(P...), Args&&... args) {
  if constexpr (sizeof...(P) == sizeof...(Args) &&
                std::is_constructible_v<std::tuple<std::decay_t<P>...>, Args&&...>) {
    const std::tuple<std::decay_t<P>...> params(std::forward<Args>(args)...);
    concurrent::Future<std::remove_cvref_t<R>> future;
    submit(executor, reinterpret_cast<ErasedFunction>(fn), &params, &future);
    return future;
  } else {
    throw std::invalid_argument(
        "run_in_executor: a process pool needs exactly one argument per parameter, each "
        "convertible to it");
  }
}

/// Submits to an executor known only at run time (the default, or an AbstractExecutor&).
template <class F, class... Args>
concurrent::Future<executor_result_t<F, Args...>> submit_dynamic(AbstractExecutor& executor,
                                                                 F&& fn, Args&&... args) {
  if (auto* threads = dynamic_cast<ThreadPoolExecutor*>(&executor))
    return threads->submit(std::forward<F>(fn), std::forward<Args>(args)...);
  if constexpr (is_function_pointer_v<F>) {
    auto* pointer = static_cast<std::decay_t<F>>(fn);
    if (auto submit = process_pool_submitter(executor, reinterpret_cast<ErasedFunction>(pointer)))
      return submit_registered(submit, executor, pointer, std::forward<Args>(args)...);
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

}  // namespace asyncio
