#pragma once
/// \file tasks.hpp
/// Tasks and the functions that schedule them (CPython `asyncio/tasks.py`):
/// `Task<T>`, `create_task`, `sleep`, `current_task`, `all_tasks`. The
/// combinators (gather, wait, wait_for, shield, as_completed, ensure_future)
/// are in tasks_combinators.hpp.
///
/// A task runs a coroutine concurrently with others on the loop: it starts on
/// the next loop iteration after `create_task`, in creation order, and runs
/// until its coroutine suspends (`co_await` on something not done), when the
/// loop runs something else.
///
/// ```cpp
/// asyncio::Coro<void> main_() {
///   auto t1 = asyncio::create_task(say_after(2s, "hello"));
///   auto t2 = asyncio::create_task(say_after(1s, "world"));
///   co_await t1;   // both run concurrently: 2 s in all
///   co_await t2;
/// }
/// ```
///
/// Cancellation, as asyncio: `task.cancel(msg)` only requests it. The
/// `CancelledError` is thrown at the `co_await` where the task is suspended,
/// when it next resumes (or at its start if it has not started). The task may
/// catch it and go on; `cancelled()` is true only when the task ended by
/// letting `CancelledError` out. `cancelling()` counts pending requests,
/// `uncancel()` takes one back (as timeouts and TaskGroup do).
///
/// A task whose exception nobody retrieved (via `co_await`, `result()` or
/// `exception()`) is reported through the loop's exception handler
/// ("Task exception was never retrieved") when its last handle goes.
///
/// Thread safety: a Task handle is used on its loop's thread only.
#include <chrono>
#include <cstring>
#include <ostream>
#include <vector>

#include "asyncio/events.hpp"

namespace asyncio {

namespace detail {
/// The result slot of a finished task or gather, or InvalidStateError when
/// take() moved the result out.
template <class P>
P& taken_check(P& p) {
  if (!p.has_value()) [[unlikely]]
    throw InvalidStateError("Result was taken out by take()");
  return p;
}
}  // namespace detail

/// A type-erased handle to a task: everything but the result.
/// (`current_task()` and `all_tasks()` return these.)
class AnyTask {
 public:
  AnyTask() noexcept = default;
  explicit AnyTask(detail::TaskCore* p) noexcept : p_(detail::Ref<detail::TaskCore>::share(p)) {}

  bool done() const { return core().done(); }
  bool cancelled() const { return core().cancelled(); }
  /// Requests cancellation; false if the task is already done.
  bool cancel(std::string msg = {}) { return core().cancel(std::move(msg)); }
  /// Number of pending cancellation requests (`Task.cancelling()`).
  int cancelling() const { return core().cancelling(); }
  /// Decrements the cancellation requests; returns the remaining count.
  int uncancel() { return core().uncancel(); }
  /// The exception (null when the task returned); throws when pending or cancelled.
  std::exception_ptr exception() const { return core().exception(); }
  std::string get_name() const { return core().get_name(); }
  void set_name(std::string name) { core().set_name(std::move(name)); }
  /// Adds `fn()` (or `fn(AnyTask&)`) to run on the next iteration after the
  /// task is done. Returns an id for remove_done_callback. The callback runs
  /// after the caller may have returned: capture by value, not locals by reference.
  template <class F>
  std::uint64_t add_done_callback(F fn) {
    auto id = detail::next_callback_id();
    core().add_callback(detail::make_done_callback(id, *this, std::move(fn)));
    return id;
  }
  /// Removes the registration with this id (if not yet scheduled); returns how many.
  std::size_t remove_done_callback(std::uint64_t id) { return core().remove_user_callback(id); }
  /// `task.remove_done_callback(fn)`: removes every registration of a callable
  /// equal to `fn` (a function, a functor with ==) not yet scheduled; returns
  /// how many, as Python's.
  template <class F>
    requires(!std::is_integral_v<F> && std::equality_comparable<std::decay_t<F>>)
  std::size_t remove_done_callback(const F& fn) {
    return detail::remove_done_callbacks_equal<std::decay_t<F>, AnyTask>(core(), fn);
  }

  explicit operator bool() const noexcept { return static_cast<bool>(p_); }
  friend bool operator==(const AnyTask& a, const AnyTask& b) noexcept { return a.p_ == b.p_; }
  friend auto operator<=>(const AnyTask& a, const AnyTask& b) noexcept { return a.p_ <=> b.p_; }
  friend std::ostream& operator<<(std::ostream& os, const AnyTask& t);

  detail::TaskCore& core() const {
    if (!p_) throw InvalidStateError("empty Task handle");
    return *p_;
  }

 protected:
  detail::Ref<detail::TaskCore> p_;
};

/// A scheduled coroutine returning T; see the file comment.
template <class T = void>
class Task : public AnyTask {
 public:
  using value_type = T;
  Task() noexcept = default;
  /// Adopts a reference to a started task.
  static Task adopt(detail::TaskImpl<T>* p) noexcept {
    Task t;
    t.p_ = detail::Ref<detail::TaskCore>::adopt(p);
    return t;
  }

  /// The result: a reference to the value (void for Task<void>); rethrows the
  /// task's exception; CancelledError if cancelled; InvalidStateError if pending
  /// ("Result is not set.") or after take() moved the result out.
  decltype(auto) result() const {
    auto& p = impl();
    p_->rethrow_if_not_value();
    if constexpr (!std::is_void_v<T>) return (detail::taken_check(p).value());
  }

  /// Adds `fn(Task<T>&)` (or `fn()`), run on the next iteration after the task is done.
  template <class F>
  std::uint64_t add_done_callback(F fn) {
    auto id = detail::next_callback_id();
    core().add_callback(detail::make_done_callback(id, *this, std::move(fn)));
    return id;
  }
  using AnyTask::remove_done_callback;
  /// Removes every registration of `fn`, made through this or an AnyTask handle.
  template <class F>
    requires(!std::is_integral_v<F> && std::equality_comparable<std::decay_t<F>>)
  std::size_t remove_done_callback(const F& fn) {
    return detail::remove_done_callbacks_equal<std::decay_t<F>, Task, AnyTask>(core(), fn);
  }

  /// `co_await task` (Python `await task`): waits for the task, then returns a
  /// *copy* of its result or rethrows its exception.
  ///
  /// A Task is a shared handle, as a Python task object is shared by every
  /// name bound to it: no awaiter takes the result away from the other
  /// handles. `co_await t`, `co_await std::move(copy)`, `wait_for(t, d)`,
  /// `timeout(d, t)`, `gather(t, ...)` and `shield(t)` all copy it, and
  /// `t.result()` and every later `co_await t` see the same value.
  ///
  /// Move-only results cannot be copied, so they leave the task only on the
  /// user's explicit request, `take()`:
  ///
  /// ```cpp
  /// asyncio::Task<std::unique_ptr<Big>> t = asyncio::create_task(load());
  /// std::unique_ptr<Big> big = co_await std::move(t).take();  // waits, then moves out
  /// // t.result() now throws InvalidStateError: the result was taken
  /// ```
  ///
  /// (`co_await t` on a Task<move-only> stops compilation with a message that
  /// says so; `take()` also works for copyable results, to save a copy.)
  template <bool Take>
  struct BasicAwaiter {
    detail::TaskImpl<T>* p;
    detail::TaskCore* waiting = nullptr;
    bool await_ready() const noexcept { return p->done(); }
    void await_suspend(std::coroutine_handle<> h) { waiting = &detail::suspend_on(*p, h); }
    T await_resume() {
      if (waiting) waiting->throw_if_cancel_requested(*p);
      p->rethrow_if_not_value();
      if constexpr (!std::is_void_v<T>) {
        auto& value = detail::taken_check(*p).value();
        // (!copyable: not reached, operator co_await refuses; only keeps errors to one line)
        if constexpr (Take || !std::is_copy_constructible_v<T>) {
          T out(std::move(value));
          p->reset();
          return out;
        } else {
          return value;
        }
      }
    }
  };
  using Awaiter = BasicAwaiter<false>;
  Awaiter operator co_await() const {
    static_assert(std::is_void_v<T> || std::is_copy_constructible_v<T>,
                  "co_await on a Task copies its result (a Task is a shared handle, as in Python); "
                  "for a move-only result write `co_await std::move(task).take()`");
    return Awaiter{&impl(), nullptr};
  }

  /// What `std::move(task).take()` returns: awaits the task and moves the
  /// result out of it (it keeps the task alive while it waits).
  struct TakeAwaiter : BasicAwaiter<true> {
    Task keep;
  };
  /// The explicit request that moves the result out of the task; see above.
  [[nodiscard]] TakeAwaiter take() && { return TakeAwaiter{{&impl(), nullptr}, *this}; }

  detail::TaskImpl<T>& impl() const { return static_cast<detail::TaskImpl<T>&>(core()); }
};

/// Wraps `coro` in a task on the running loop and schedules it
/// (`asyncio.create_task(coro, name=...)`). Names default to "Task-N".
template <class T>
Task<T> create_task(Coro<T> coro, std::string_view name = {},
                    detail::CallSite where = detail::CallSite::current()) {
  return get_running_loop().create_task(std::move(coro), name, where);
}

namespace detail {
/// Wraps any awaitable in a coroutine [Python's `_wrap_awaitable`], so that
/// `create_task(sleep(1s, 3))` works as `asyncio.create_task(asyncio.sleep(1, 3))`
/// does (and ensure_future, TaskGroup::create_task of an awaitable).
template <class A>
Coro<await_value_t<A>> wrap_awaitable(A aw) {
  co_return co_await std::move(aw);
}

template <class A>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<Task<T>> = true;
template <class A>
inline constexpr bool is_future_v = false;
template <class T>
inline constexpr bool is_future_v<Future<T>> = true;

/// An awaitable that is not one of our coroutine, task or future types (it
/// gets wrapped in a coroutine, as Python's `_wrap_awaitable`).
template <class A>
concept ForeignAwaitable = Awaitable<A> && !is_coro_v<std::remove_cvref_t<A>> &&
                           !is_task_v<std::remove_cvref_t<A>> && !is_future_v<std::remove_cvref_t<A>> &&
                           !std::derived_from<std::remove_cvref_t<A>, AnyTask>;
}  // namespace detail

/// `create_task` for an awaitable that is not a Coro (sleep, a Future, ...).
template <class A>
  requires requires(A& a) { a.await_ready(); }
auto create_task(A awaitable, std::string_view name = {}, detail::CallSite where = detail::CallSite::current()) {
  return create_task(detail::wrap_awaitable(std::move(awaitable)), name, where);
}

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro, std::string_view name, detail::CallSite where) {
  check_thread("create_task");
  auto h = coro.release();
  detail::TaskImpl<T>* t;
  try {
    t = new detail::TaskImpl<T>(h);
  } catch (...) {
    h.destroy();
    throw;
  }
  t->start_task(*this, name);
  if (detail::t_record_origins) [[unlikely]] detail::note_created_at(&h.promise(), where);
  return Task<T>::adopt(t);
}

/// The task running now, or an empty handle (`asyncio.current_task()`).
AnyTask current_task();
/// The tasks of the running loop that are not done yet (`asyncio.all_tasks()`).
std::vector<AnyTask> all_tasks();

namespace detail {

/// The future behind `sleep(delay)`: completed by a timer (one allocation from
/// the pool for both, as CPython allocates a future and a TimerHandle).
class SleepFuture;

struct SleepAwaiter {
  // One word, so that a frame awaiting sleep is small: until the suspension,
  // the delay (>= 0; a delay <= 0 is sleep(0)); from it, kSuspended, with the
  // timer's future in the other bits (none for sleep(0)). The task is the
  // running one at resume. Kept as bytes (alignment 1): g++ 12 then packs it
  // beside the frame's one-byte fields (W1's frame: 64 bytes, not 72 in the
  // 80-byte class); x86-64 and AArch64 read it unaligned at no cost.
  static constexpr std::uint64_t kSuspended = std::uint64_t{1} << 63;
  SleepAwaiter(std::int64_t ns) noexcept { set_word(ns > 0 ? static_cast<std::uint64_t>(ns) : 0); }
  SleepAwaiter(SleepAwaiter&& o) noexcept {
    set_word(o.word());
    o.set_word(0);
  }
  ~SleepAwaiter();
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h);
  void await_resume();

 private:
  std::uint64_t word() const noexcept {
    std::uint64_t w;
    std::memcpy(&w, bytes_, sizeof w);
    return w;
  }
  void set_word(std::uint64_t w) noexcept { std::memcpy(bytes_, &w, sizeof w); }
  SleepFuture* future() const noexcept {
    const std::uint64_t w = word();
    return (w & kSuspended) != 0 ? reinterpret_cast<SleepFuture*>(w & ~kSuspended) : nullptr;
  }
  unsigned char bytes_[sizeof(std::uint64_t)];
};
static_assert(alignof(SleepAwaiter) == 1 && sizeof(SleepAwaiter) == 8);

template <class T>
struct SleepResultAwaiter : SleepAwaiter {
  T result;
  T await_resume() {
    SleepAwaiter::await_resume();
    return std::move(result);
  }
};

}  // namespace detail

/// Suspends the current task for `delay` (`await asyncio.sleep(delay)`).
/// `sleep(0s)` yields to the other tasks for one loop iteration.
/// A cancellation during the sleep throws CancelledError here.
template <class Rep, class Period>
[[nodiscard]] detail::SleepAwaiter sleep(std::chrono::duration<Rep, Period> delay) {
  return detail::SleepAwaiter(detail::delay_to_ns(delay));
}
/// Sleeps `seconds` (a number, as in Python: `sleep(0.5)`). `inf` (or any
/// delay too large for the loop's clock) sleeps until cancelled; NaN throws
/// ValueError("Invalid delay: NaN (not a number)"), as Python 3.13.
[[nodiscard]] inline detail::SleepAwaiter sleep(double seconds) {
  return detail::SleepAwaiter(detail::delay_to_ns(seconds));
}
/// `await asyncio.sleep(delay, result)`: returns `result` after the delay.
template <class Rep, class Period, class T>
[[nodiscard]] detail::SleepResultAwaiter<std::decay_t<T>> sleep(std::chrono::duration<Rep, Period> delay,
                                                                 T&& result) {
  return {detail::SleepAwaiter(detail::delay_to_ns(delay)), std::forward<T>(result)};
}

// ---- EventLoop::run_until_complete ----
namespace detail {
void run_until_done(EventLoop& loop, TaskCore& task);
}
template <class T>
decltype(auto) EventLoop::run_until_complete(Task<T>& task) {
  detail::run_until_done(*this, task.core());
  return task.result();
}

}  // namespace asyncio
