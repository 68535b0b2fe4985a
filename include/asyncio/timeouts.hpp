#pragma once
/// \file timeouts.hpp
/// `timeout(delay)` and `timeout_at(when)`: a deadline around a block of code
/// (CPython `asyncio/timeouts.py`, 3.11+).
///
/// When the deadline passes, the task running the block is cancelled; the
/// block sees CancelledError at its current `co_await`, and when it lets it
/// out, the timeout turns it into TimeoutError. A cancellation that did not
/// come from this timeout (a `cancel()` from outside) is never turned into
/// TimeoutError: the timeout compares the task's `cancelling()` count with
/// what it was on entry, as CPython does.
///
/// C++ has no `async with`, so the block is a callable returning a coroutine
/// (or a coroutine object, or anything awaitable), which the timeout awaits:
///
/// | Python                                      | C++                                                        |
/// |---------------------------------------------|------------------------------------------------------------|
/// | `async with asyncio.timeout(10):`<br>`    await work()` | `co_await asyncio::timeout(10s, [&]() -> asyncio::Coro<> {`<br>`  co_await work();`<br>`});` |
/// | `async with asyncio.timeout(10):`<br>`    r = await work()` | `int r = co_await asyncio::timeout(10s, work());` (the block's value is returned) |
/// | `async with asyncio.timeout(None) as cm:`<br>`    cm.reschedule(loop.time() + 1)` | `co_await asyncio::timeout(std::nullopt, [&](asyncio::Timeout& cm) -> asyncio::Coro<> {`<br>`  cm.reschedule(loop.time() + 1);`<br>`});` |
/// | `cm = asyncio.timeout(10)`<br>`async with cm: ...`<br>`if cm.expired(): ...` | `asyncio::Timeout cm = asyncio::timeout(10s);`<br>`co_await cm.async_with(body);`<br>`if (cm.expired()) ...` |
/// | `async with asyncio.timeout_at(when):` | `co_await asyncio::timeout_at(when, body)` |
///
/// The block runs inline in the current task (as the body of `async with`
/// does): no loop iteration passes on entry or exit. Times given to
/// `timeout_at`, `reschedule` and returned by `when()` are loop times in seconds
/// (`loop.time()`); `timeout(delay)` takes a `std::chrono` duration and fixes the
/// deadline when it is called, as Python's `timeout()` does.
///
/// Lifecycle (`Timeout::State`, Python's `_State`): created → active (entered)
/// → expiring (the deadline passed, the task was cancelled) → expired (left
/// with TimeoutError or another exception), or active → finished.
///
/// Thread safety: a Timeout is used by the one task that entered it.
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <ostream>
#include <type_traits>
#include <utility>

#include "asyncio/detail/async_with.hpp"
#include "asyncio/detail/awaitable.hpp"
#include "asyncio/events.hpp"

namespace asyncio {

/// A deadline for a block of code; see the file comment.
///
/// Invariants: `task_` is set exactly while active or expiring; `handle_` is
/// the pending `_on_timeout` callback (a timer, or call_soon when the deadline
/// has already passed), or empty.
class Timeout {
 public:
  enum class State : std::uint8_t { created, active, expiring, expired, finished };

  /// A timeout at loop time `when` seconds, or none (`Timeout(when)`); prefer
  /// timeout() and timeout_at(). `when()` returns this very number.
  explicit Timeout(std::optional<double> when);
  /// The deadline in loop nanoseconds (`EventLoop::now_ns`), or none.
  struct Nanoseconds {
    std::optional<std::int64_t> when;
  };
  explicit Timeout(Nanoseconds when) noexcept : when_ns_(when.when) {}
  /// Both: the deadline in nanoseconds, and the seconds `when()` reports.
  Timeout(Nanoseconds when, double when_seconds) noexcept : when_ns_(when.when), when_s_(when_seconds) {}
  /// The deadline in loop nanoseconds.
  Nanoseconds nanoseconds() const noexcept { return {when_ns_}; }

  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;
  ~Timeout();

  /// The deadline in loop seconds, or nullopt for none (`cm.when()`): the
  /// number given to timeout_at()/reschedule() exactly as given (the timer
  /// itself runs on the loop's integer-nanosecond clock), `loop.time() + delay`
  /// for timeout(seconds), else the nanosecond deadline in seconds.
  std::optional<double> when() const noexcept;
  /// Moves the deadline to loop time `when` seconds, or removes it (nullopt).
  /// RuntimeError unless active: "Timeout has not been entered", "Cannot
  /// change state of expiring Timeout", ... (`cm.reschedule(when)`).
  void reschedule(std::optional<double> when);
  /// Same, in loop nanoseconds.
  void reschedule_ns(std::optional<std::int64_t> when_ns);
  /// True once the deadline has passed inside the block (`cm.expired()`).
  bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }
  State state() const noexcept { return state_; }

  /// `async with cm: <body>`: enters, awaits the body, exits. Returns the
  /// body's value. Throws TimeoutError when the deadline cancelled the body,
  /// else what the body threw. `body` is a callable taking `Timeout&` or
  /// nothing and returning a coroutine, or a coroutine object / awaitable.
  template <class Body>
  Coro<detail::body_result_t<Body, Timeout>> async_with(Body body);

  /// `__aenter__`: binds to the current task and arms the deadline.
  /// RuntimeError when already entered or not inside a task.
  void enter();
  /// `__aexit__` with the exception leaving the block (null when none):
  /// disarms; throws TimeoutError when this timeout expired and `exc` is the
  /// CancelledError it caused; otherwise returns (the caller rethrows `exc`).
  void exit(const std::exception_ptr& exc);

  /// `<Timeout [active] when=12.345>` (Python's repr).
  friend std::ostream& operator<<(std::ostream& os, const Timeout& t);

 private:
  void on_timeout();

  std::optional<std::int64_t> when_ns_;
  std::optional<double> when_s_;  // the user's number, returned by when()
  Handle handle_;
  detail::TaskCore* task_ = nullptr;  // not counted: the task runs this Timeout's block
  int cancelling_ = 0;
  State state_ = State::created;
};

/// `asyncio.timeout(delay)`: a Timeout whose deadline is `delay` from now (loop
/// time, fixed by this call). Enter it with `async_with`, or use the two-argument
/// form. RuntimeError outside a running loop.
template <class Rep, class Period>
[[nodiscard]] Timeout timeout(std::chrono::duration<Rep, Period> delay) {
  return Timeout(Timeout::Nanoseconds{detail::deadline_in(get_running_loop().now_ns(), delay)});
}
/// `asyncio.timeout(seconds)`.
[[nodiscard]] Timeout timeout(double seconds);
/// `asyncio.timeout(None)`: no deadline until `reschedule()`.
[[nodiscard]] inline Timeout timeout(std::nullopt_t) noexcept { return Timeout(Timeout::Nanoseconds{}); }
/// `asyncio.timeout_at(when)`: a deadline at loop time `when` seconds, or none.
[[nodiscard]] inline Timeout timeout_at(std::optional<double> when) { return Timeout(when); }

namespace detail {
template <class Body>
Coro<body_result_t<Body, Timeout>> timeout_scope(Timeout::Nanoseconds when, Body body) {
  Timeout cm(when);
  co_return co_await cm.async_with(std::move(body));
}
}  // namespace detail

/// `async with asyncio.timeout(delay): <body>` in one call: awaits `body`
/// under a deadline `delay` from now; returns its value or throws TimeoutError.
///
/// ```cpp
/// try {
///   co_await asyncio::timeout(1s, [&]() -> asyncio::Coro<> { co_await eternity(); });
/// } catch (const asyncio::TimeoutError&) {
///   fmt::print("timeout!\n");
/// }
/// ```
template <class Rep, class Period, class Body>
Coro<detail::body_result_t<Body, Timeout>> timeout(std::chrono::duration<Rep, Period> delay, Body body) {
  return detail::timeout_scope(timeout(delay).nanoseconds(), std::move(body));
}
/// `async with asyncio.timeout(seconds): <body>`.
template <class Body>
Coro<detail::body_result_t<Body, Timeout>> timeout(double seconds, Body body) {
  return detail::timeout_scope(timeout(seconds).nanoseconds(), std::move(body));
}
/// `async with asyncio.timeout(None) as cm: <body>` (the body may reschedule).
template <class Body>
Coro<detail::body_result_t<Body, Timeout>> timeout(std::nullopt_t, Body body) {
  return detail::timeout_scope(Timeout::Nanoseconds{}, std::move(body));
}
/// `async with asyncio.timeout_at(when): <body>`.
template <class Body>
Coro<detail::body_result_t<Body, Timeout>> timeout_at(std::optional<double> when, Body body) {
  return detail::timeout_scope(Timeout(when).nanoseconds(), std::move(body));
}

template <class Body>
Coro<detail::body_result_t<Body, Timeout>> Timeout::async_with(Body body) {
  return detail::async_with(*this, std::move(body));
}

}  // namespace asyncio
