#pragma once
/// \file tasks.hpp
/// Tasks and the functions that schedule them (CPython `asyncio/tasks.py`):
/// `Task<T>`, `create_task`, `sleep`, `current_task`, `all_tasks`.
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
#include <ostream>
#include <vector>

#include "asyncio/events.hpp"

namespace asyncio {

/// A type-erased handle to a task: everything but the result.
/// (`current_task()` and `all_tasks()` return these.)
class AnyTask {
 public:
  AnyTask() noexcept = default;
  explicit AnyTask(detail::TaskCore* p) noexcept : p_(p) {
    if (p_) p_->add_ref();
  }
  AnyTask(const AnyTask& o) noexcept : AnyTask(o.p_) {}
  AnyTask(AnyTask&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  AnyTask& operator=(AnyTask o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~AnyTask() {
    if (p_) p_->release();
  }

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
  /// Adds `fn()` to run on the next iteration after the task is done.
  /// Returns an id for remove_done_callback.
  template <class F>
  std::uint64_t add_done_callback(F fn) {
    auto id = detail::next_callback_id();
    core().add_callback(new detail::UserCallback(
        id, [keep = *this, fn = std::move(fn)]() mutable { detail::invoke_done_callback(fn, keep); }));
    return id;
  }
  std::size_t remove_done_callback(std::uint64_t id) { return core().remove_user_callback(id); }

  explicit operator bool() const noexcept { return p_ != nullptr; }
  friend bool operator==(const AnyTask& a, const AnyTask& b) noexcept { return a.p_ == b.p_; }
  friend auto operator<=>(const AnyTask& a, const AnyTask& b) noexcept { return a.p_ <=> b.p_; }
  friend std::ostream& operator<<(std::ostream& os, const AnyTask& t);

  detail::TaskCore& core() const {
    if (!p_) throw InvalidStateError("empty Task handle");
    return *p_;
  }

 protected:
  detail::TaskCore* p_ = nullptr;
};

/// A scheduled coroutine returning T; see the file comment.
template <class T = void>
class Task : public AnyTask {
 public:
  using value_type = T;
  Task() noexcept = default;
  /// Adopts a reference to the promise of a started task.
  static Task adopt(detail::Promise<T>* p) noexcept {
    Task t;
    t.p_ = p;
    return t;
  }

  /// The result: a reference to the value (void for Task<void>); rethrows the
  /// task's exception; CancelledError if cancelled; InvalidStateError if pending.
  decltype(auto) result() const {
    auto& p = promise();
    p_->rethrow_if_not_value();
    if constexpr (!std::is_void_v<T>) return (p.value());
  }

  /// Adds `fn(Task<T>&)` (or `fn()`), run on the next iteration after the task is done.
  template <class F>
  std::uint64_t add_done_callback(F fn) {
    auto id = detail::next_callback_id();
    core().add_callback(new detail::UserCallback(
        id, [keep = *this, fn = std::move(fn)]() mutable { detail::invoke_done_callback(fn, keep); }));
    return id;
  }

  /// `co_await task`: waits for it; returns a copy of the result (an rvalue
  /// task moves it out, for move-only T) or rethrows its exception.
  struct Awaiter {
    detail::Promise<T>* p;
    bool move_out;
    detail::TaskCore* waiting = nullptr;
    bool await_ready() const noexcept { return p->done(); }
    void await_suspend(std::coroutine_handle<> h) { waiting = &detail::suspend_on(*p, h); }
    T await_resume() {
      if (waiting) waiting->throw_if_cancel_requested();
      p->rethrow_if_not_value();
      if constexpr (std::is_copy_constructible_v<T>) {
        if (!move_out) return p->value();
      }
      if constexpr (!std::is_void_v<T>) return std::move(p->value());
    }
  };
  Awaiter operator co_await() const&
    requires(std::is_void_v<T> || std::is_copy_constructible_v<T>)
  {
    return Awaiter{&promise(), false};
  }
  Awaiter operator co_await() && { return Awaiter{&promise(), true}; }

  detail::Promise<T>& promise() const { return static_cast<detail::Promise<T>&>(core()); }
};

/// Wraps `coro` in a task on the running loop and schedules it
/// (`asyncio.create_task(coro, name=...)`). Names default to "Task-N".
template <class T>
Task<T> create_task(Coro<T> coro, std::string name = {}) {
  return get_running_loop().create_task(std::move(coro), std::move(name));
}

namespace detail {
template <class A>
using await_result_t = decltype(std::declval<A&>().await_resume());
/// Wraps any awaitable in a coroutine, so that `create_task(sleep(1s, 3))`
/// works as `asyncio.create_task(asyncio.sleep(1, 3))` does.
template <class A>
Coro<std::remove_cvref_t<await_result_t<A>>> await_as_coro(A awaitable) {
  co_return co_await awaitable;
}
}  // namespace detail

/// `create_task` for an awaitable that is not a Coro (sleep, a Future, ...).
template <class A>
  requires requires(A& a) { a.await_ready(); }
auto create_task(A awaitable, std::string name = {}) {
  return create_task(detail::await_as_coro(std::move(awaitable)), std::move(name));
}

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro, std::string name) {
  check_thread("create_task");
  auto h = coro.release();
  auto& p = h.promise();
  p.set_resume_point(h);
  p.start_task(*this, std::move(name));
  return Task<T>::adopt(&p);
}

/// The task running now, or an empty handle (`asyncio.current_task()`).
AnyTask current_task();
/// The tasks of the running loop that are not done yet (`asyncio.all_tasks()`).
std::vector<AnyTask> all_tasks();

namespace detail {

/// `sleep(0)`: yields to the loop for exactly one iteration [tasks.__sleep0].
struct YieldAwaiter {
  TaskCore* task = nullptr;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h);
  void await_resume() { task->throw_if_cancel_requested(); }
};

/// The future behind `sleep(delay)`: completed by a timer (one allocation from
/// the pool for both, as CPython allocates a future and a TimerHandle).
class SleepFuture;

struct SleepAwaiter {
  std::int64_t delay_ns;
  SleepFuture* fut = nullptr;
  TaskCore* task = nullptr;
  SleepAwaiter(std::int64_t ns) noexcept : delay_ns(ns) {}
  SleepAwaiter(SleepAwaiter&& o) noexcept : delay_ns(o.delay_ns), fut(std::exchange(o.fut, nullptr)) {}
  ~SleepAwaiter();
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h);
  void await_resume();
};

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
  return detail::SleepAwaiter(std::chrono::duration_cast<std::chrono::nanoseconds>(delay).count());
}
/// Sleeps `seconds` (a number, as in Python: `sleep(0.5)`).
[[nodiscard]] inline detail::SleepAwaiter sleep(double seconds) {
  return detail::SleepAwaiter(static_cast<std::int64_t>(seconds * 1e9));
}
/// `await asyncio.sleep(delay, result)`: returns `result` after the delay.
template <class Rep, class Period, class T>
[[nodiscard]] detail::SleepResultAwaiter<std::decay_t<T>> sleep(std::chrono::duration<Rep, Period> delay,
                                                                 T&& result) {
  return {detail::SleepAwaiter(std::chrono::duration_cast<std::chrono::nanoseconds>(delay).count()),
          std::forward<T>(result)};
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
