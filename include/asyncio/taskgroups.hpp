#pragma once
/// \file taskgroups.hpp
/// `TaskGroup`: structured concurrency (CPython `asyncio/taskgroups.py`).
///
/// A task group runs a block of code (its body) that creates tasks in the
/// group; the group is left only when every one of them has finished. When a
/// task of the group fails (or the body does), the group cancels the others and
/// the body (its parent task, at its current `co_await`), waits for them, and
/// throws an ExceptionGroup with every error, in the order they happened (the
/// body's own error last). CancelledError of a child is not an error.
///
/// C++ has no `async with`: the body is a callable taking `TaskGroup&` (or
/// nothing) and returning a coroutine, which `async_with` awaits inline in the
/// current task (the parent), then does what `__aexit__` does:
///
/// ```cpp
/// // Python:                                  // C++:
/// // async with asyncio.TaskGroup() as tg:    asyncio::TaskGroup tg;
/// //     t1 = tg.create_task(f())             co_await tg.async_with([&]() -> asyncio::Coro<> {
/// //     t2 = tg.create_task(g())               t1 = tg.create_task(f());
/// // print(t1.result(), t2.result())            t2 = tg.create_task(g());
///                                             });
///                                             fmt::print("{} {}\n", t1.result(), t2.result());
///
/// // except* ValueError as eg:                } catch (asyncio::ExceptionGroup& eg) {
///                                               if (auto g = eg.take<std::invalid_argument>()) {...}
///                                               if (!eg.empty()) throw;
///                                             }
/// ```
///
/// Cancellation, as asyncio does it: when a child fails, the group cancels its
/// parent task to interrupt the body, and takes that request back
/// (`uncancel()`) when it exits, so that a caught ExceptionGroup leaves the
/// parent's `cancelling()` as it was. A cancellation from outside (the parent
/// was cancelled while in the group) cancels the children, waits for them,
/// and propagates CancelledError — unless children failed: then the
/// ExceptionGroup wins and the parent is cancelled again so the outside
/// request is not lost. (`__aexit__` is 3.13's, which is 3.12's with the
/// gh-116720 fixes: the parent is uncancelled after the children finished.)
///
/// "Base errors" are `asyncio::SystemExit` and `asyncio::KeyboardInterrupt`
/// (and their subclasses): one of them thrown by a child or the body is
/// rethrown alone, as Python does. Any other BaseException goes into the
/// ExceptionGroup with the errors (Python's BaseExceptionGroup: one type here).
///
/// The group cancels its children in creation order (Python iterates a set).
///
/// Thread safety: a TaskGroup is used from its parent task only.
#include <exception>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "asyncio/detail/async_with.hpp"
#include "asyncio/exception_group.hpp"
#include "asyncio/tasks.hpp"

namespace asyncio {

/// A group of tasks tied to a block of code; see the file comment.
///
/// Invariants: the children not done yet form a list in creation order, each
/// node registered as the done callback of its task and holding a reference to
/// it; the group is not left (async_with does not return) while the list is
/// not empty.
class TaskGroup {
 public:
  TaskGroup() = default;
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  /// `tg.create_task(coro, name=...)`: a task in this group, scheduled now.
  /// RuntimeError when the group has not been entered, is finished, or is
  /// shutting down (the coroutine is then closed without running).
  template <class T>
  Task<T> create_task(Coro<T> coro, std::string_view name = {},
                      detail::CallSite where = detail::CallSite::current()) {
    if (std::string err = creation_error(); !err.empty()) {
      if (coro) coro.release().destroy();  // coro.close()
      throw RuntimeError(err);
    }
    Task<T> task = static_cast<EventLoop&>(*loop_).create_task(std::move(coro), name, where);
    track(task.core());
    return task;
  }
  /// create_task of another awaitable (e.g. `asyncio::sleep(1s, value)`).
  template <detail::ForeignAwaitable A>
  Task<detail::await_value_t<A>> create_task(A aw, std::string_view name = {},
                                             detail::CallSite where = detail::CallSite::current()) {
    return create_task(detail::wrap_awaitable(std::move(aw)), name, where);
  }

  /// `async with tg: <body>`: enters, awaits the body (a callable taking
  /// `TaskGroup&` or nothing, returning a coroutine), waits for the children,
  /// and throws as `__aexit__` does. Returns the body's value.
  template <class Body>
  Coro<detail::body_result_t<Body, TaskGroup>> async_with(Body body);

  /// `__aenter__`: binds to the current task. RuntimeError when entered twice
  /// or not inside a task.
  void enter();
  /// `__aexit__` with the exception leaving the body (null when none): waits
  /// for the children, then throws ExceptionGroup, CancelledError or a base
  /// error as CPython does; returns normally otherwise (the caller then
  /// rethrows `exc` if it is set).
  Coro<void> exit(std::exception_ptr exc);

  /// Number of children not done yet.
  std::size_t size() const noexcept { return ntasks_; }
  /// `<TaskGroup tasks=2 errors=1 cancelling>` (Python's repr).
  friend std::ostream& operator<<(std::ostream& os, const TaskGroup& tg);

 private:
  struct Child;
  std::string creation_error() const;
  void track(detail::TaskCore& task);
  static const detail::RunnableOps kChildOps;
  void on_task_done(Child& c);
  void abort();
  void unlink(Child* c) noexcept;
  std::string repr() const;

  Child* head_ = nullptr;  // children not done, in creation order
  Child* tail_ = nullptr;
  std::size_t ntasks_ = 0;
  std::vector<std::exception_ptr> errors_;
  std::exception_ptr base_error_;
  detail::TaskCore* parent_ = nullptr;  // not counted: the parent runs this group's body
  detail::LoopCore* loop_ = nullptr;
  std::optional<detail::Waiter<void>> on_completed_;
  bool entered_ = false;
  bool exiting_ = false;
  bool aborting_ = false;
  bool parent_cancel_requested_ = false;
};

template <class Body>
Coro<detail::body_result_t<Body, TaskGroup>> TaskGroup::async_with(Body body) {
  return detail::async_with(*this, std::move(body));
}

}  // namespace asyncio
