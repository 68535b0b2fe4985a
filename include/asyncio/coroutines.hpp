#pragma once
/// \file coroutines.hpp
/// `Coro<T>`: what an `async def` returns (CPython `asyncio/coroutines.py`).
///
/// A function returning `asyncio::Coro<T>` and using `co_await`/`co_return` is
/// a coroutine function. Calling it runs nothing: it makes a coroutine object,
/// which runs when it is awaited or wrapped in a task:
///
/// ```cpp
/// asyncio::Coro<int> answer() {
///   co_await asyncio::sleep(1s);
///   co_return 42;
/// }
/// asyncio::Coro<void> main_() {
///   int x = co_await answer();                  // Python: x = await answer()
///   auto t = asyncio::create_task(answer());    // Python: t = asyncio.create_task(answer())
///   int y = co_await t;
/// }
/// ```
///
/// `co_await coro` runs it inline in the awaiting task, like `await coro` in
/// Python: no loop iteration passes unless it suspends. Semantics:
///
/// - lazy: the body starts when awaited or scheduled; move-only; `[[nodiscard]]`;
/// - awaiting it a second time throws `RuntimeError("cannot reuse already
///   awaited coroutine")` (as Python does);
/// - in debug mode a coroutine destroyed without ever being awaited or
///   scheduled is reported through the loop's exception handler
///   ("coroutine 'f' was never awaited", Python's RuntimeWarning);
/// - frames come from a per-thread pool (detail/frame_pool.hpp); the promise
///   holds only what an inline await needs (the awaiting coroutine and the
///   result or exception: 16 bytes for a `Coro<long>`; the name is found from
///   the frame, see CoroPromise), and `create_task`
///   allocates the task state (TaskImpl<T>) from the same pool.
///
/// Thread safety: a coroutine runs on its loop's thread only.
#include <memory>
#include <optional>
#include <ostream>
#include <type_traits>

#include "asyncio/detail/await_site.hpp"
#include "asyncio/detail/awaitable.hpp"
#include "asyncio/detail/core.hpp"

namespace asyncio {

template <class T = void>
class Coro;

namespace detail {

/// Tags the promise constructor that receives the coroutine's name: the name
/// is a default argument, evaluated in the coroutine itself. The tag comes
/// first so that a coroutine taking a single `const char*` never binds its
/// argument to the name. (A braced or std::source_location default argument
/// names the wrong function with g++ 12; this form works with g++ and clang.)
struct FunctionName {
  const char* name;
  CallSite where;  ///< the coroutine's definition, for debug mode (await_site.hpp)
};
struct NameTag {};

/// Storage of the result (a future's). `T` may be move-only.
template <class T>
class ResultSlot {
 public:
  template <class U>
  void emplace(U&& v) {
    value_.emplace(std::forward<U>(v));
  }
  T& value() noexcept { return *value_; }
  const T& value() const noexcept { return *value_; }
  bool has_value() const noexcept { return value_.has_value(); }
  void reset() noexcept { value_.reset(); }

 private:
  std::optional<T> value_;
};
template <>
class ResultSlot<void> {
 public:
  void reset() noexcept {}
};


/// A coroutine's result or exception (which one: CoroPromise's flags).
template <class T>
union PromiseSlot {
  PromiseSlot() noexcept {}
  ~PromiseSlot() {}
  T value_;
  std::exception_ptr exc_;
};
template <>
union PromiseSlot<void> {
  PromiseSlot() noexcept {}
  ~PromiseSlot() {}
  std::exception_ptr exc_;
};

/// The typed part of a coroutine's promise: CoroPromise (the continuation or
/// task word) and `union { T value; std::exception_ptr exc; }`, which of the
/// two it holds told by CoroPromise's flags. `T` may be move-only and need
/// not be default-constructible. 16 bytes for a `T` of 8.
template <class T>
class PromiseBase : public CoroPromise {
 public:
  /// `__builtin_FUNCTION()` in a default argument names the function whose body
  /// constructs the promise: the coroutine itself (g++ 12 and clang 14 agree).
  explicit PromiseBase(FunctionName fn) noexcept {
    static_assert(alignof(PromiseBase) <= 2 * sizeof(void*),
                  "a coroutine result aligned to more than 16 bytes would move the promise in its frame");
    register_coroutine_name(frame_key(), fn.name);
    ++t_live_frames;
    if (t_record_origins) [[unlikely]] record_origin(fn.where);
  }
  ~PromiseBase() {
    reset();
    if (has_exception()) std::destroy_at(std::addressof(slot_.exc_));
    --t_live_frames;
    if (t_origin_count != 0) [[unlikely]] forget_origin(this);
  }

  static void* operator new(std::size_t size) { return pool_allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { pool_deallocate(p, size); }

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      return h.promise().on_final_suspend();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept {
    reset();
    std::construct_at(std::addressof(slot_.exc_), std::current_exception());
    set_flag(kHasException, true);
  }
  /// At final suspend: an inline coroutine returns to the awaiting one; a
  /// task's outermost coroutine completes the task (its exception moves
  /// there) and returns to the loop.
  std::coroutine_handle<> on_final_suspend() noexcept {
    if (std::coroutine_handle<> c = continuation()) [[likely]] return c;
    // A task's outermost coroutine: only the task's step resumes its frames.
    t_running_loop->current_task()->finish_task(take_exception());
    return std::noop_coroutine();
  }
  /// The exception the body let out; only when has_exception().
  const std::exception_ptr& exception() const noexcept { return slot_.exc_; }

  // ---- the result (as std::optional's names) ----
  template <class U>
    requires(!std::is_void_v<T>)
  void emplace(U&& v) {
    reset();
    std::construct_at(std::addressof(slot_.value_), std::forward<U>(v));
    set_flag(kHasValue, true);
  }
  std::add_lvalue_reference_t<T> value() noexcept
    requires(!std::is_void_v<T>)
  {
    return slot_.value_;
  }
  std::add_lvalue_reference_t<const T> value() const noexcept
    requires(!std::is_void_v<T>)
  {
    return slot_.value_;
  }
  void reset() noexcept {
    if constexpr (!std::is_void_v<T>) {
      if (has_value()) {
        std::destroy_at(std::addressof(slot_.value_));
        set_flag(kHasValue, false);
      }
    }
  }
  void print_result(std::ostream& os) const {
    if constexpr (!std::is_void_v<T>) {
      if (this->has_value()) {
        os << " result=";
        if constexpr (requires { os << this->value(); }) {
          os << this->value();
        } else {
          os << "...";
        }
      }
    }
  }

 private:
  void record_origin(CallSite where) noexcept {
    try {
      note_origin(this, where);
    } catch (...) {  // bad_alloc: the report will only lack where it was created
    }
  }
  std::exception_ptr take_exception() noexcept {
    if (!has_exception()) return nullptr;
    std::exception_ptr e = std::move(slot_.exc_);
    std::destroy_at(std::addressof(slot_.exc_));
    set_flag(kHasException, false);
    return e;
  }

  PromiseSlot<T> slot_;
};

template <class T>
class Promise : public PromiseBase<T> {
 public:
  explicit Promise(NameTag = {}, const char* fn = __builtin_FUNCTION(), CallSite where = CallSite::current()) noexcept
      : PromiseBase<T>(FunctionName{fn, where}) {}
  Coro<T> get_return_object() noexcept;
  // `co_return x` with x a T takes it by value: g++ 12 keeps a temporary bound
  // to a reference parameter in the frame when the expression awaits
  // (`co_return 1 + co_await f()`: 8 bytes more per frame). Any other type
  // constructs the value in place (explicit conversions allowed, as before).
  void return_value(T v) { this->emplace(std::move(v)); }
  template <class U>
    requires(!std::is_same_v<std::remove_cvref_t<U>, T>)
  void return_value(U&& v) {
    this->emplace(std::forward<U>(v));
  }
};

template <>
class Promise<void> : public PromiseBase<void> {
 public:
  explicit Promise(NameTag = {}, const char* fn = __builtin_FUNCTION(), CallSite where = CallSite::current()) noexcept
      : PromiseBase<void>(FunctionName{fn, where}) {}
  Coro<void> get_return_object() noexcept;
  void return_void() noexcept {}
};

/// A task running a `Coro<T>` (create_task): the task state, and the
/// coroutine frame it owns, whose promise keeps the result. Allocated from
/// the frame pool; the last reference destroys the frame, then the task.
template <class T>
class TaskImpl final : public TaskCore, public PooledCompact<TaskImpl<T>> {
 public:
  explicit TaskImpl(std::coroutine_handle<Promise<T>> frame) noexcept : TaskCore(frame.promise(), frame) {}

  // ---- the result, in the frame's promise (as std::optional's names) ----
  bool has_value() const noexcept { return result().has_value(); }
  std::add_lvalue_reference_t<T> value() noexcept
    requires(!std::is_void_v<T>)
  {
    return result().value();
  }
  void reset() noexcept { result().reset(); }

  void print_result(std::ostream& os) const override { result().print_result(os); }

 protected:
  void destroy_frame_and_task() noexcept override {
    std::coroutine_handle<Promise<T>>::from_promise(result()).destroy();
    delete this;
  }
  void discard_result() noexcept override { result().reset(); }

 private:
  Promise<T>& result() const noexcept {
    return static_cast<Promise<T>&>(const_cast<CoroPromise&>(promise()));
  }
};

/// Reports a coroutine destroyed without being awaited (debug mode only), with
/// where it was created.
void report_never_awaited(const CoroPromise& coro);

/// Destroying a suspended coroutine destroys the `Coro` it awaits, which
/// destroys its frame, and so on down the chain: one C++ call level per
/// coroutine level. Past `kMaxDestroyDepth` nested levels the frames are put
/// on a list and destroyed one after the other by the outermost destroy
/// instead, so that tearing down a chain of any depth (a loop closing on a
/// million-deep suspended recursion) cannot overflow the stack (issue 8,
/// defect 7). Below that depth the order is C++'s (innermost frame first);
/// beyond it, a frame is destroyed after its parent.
inline constexpr int kMaxDestroyDepth = 1000;
inline constinit thread_local int t_destroy_depth = 0;
/// Queues `h` for destruction by the outermost destroy on this thread.
void defer_destroy(std::coroutine_handle<> h) noexcept;
/// Destroys the queued frames (and what they queue in turn); at depth 0 only.
void destroy_deferred() noexcept;
inline constinit thread_local bool t_destroy_deferred = false;

/// Destroys a coroutine frame, iteratively past kMaxDestroyDepth levels.
inline void destroy_frame_bounded(std::coroutine_handle<> h) noexcept {
  if (t_destroy_depth >= kMaxDestroyDepth) [[unlikely]] {
    defer_destroy(h);
    return;
  }
  ++t_destroy_depth;
  h.destroy();
  --t_destroy_depth;
  if (t_destroy_depth == 0 && t_destroy_deferred) [[unlikely]] destroy_deferred();
}

}  // namespace detail

/// A coroutine object: lazy, move-only; see the file comment.
template <class T>
class [[nodiscard]] Coro {
 public:
  using promise_type = detail::Promise<T>;
  using value_type = T;
  using handle_type = std::coroutine_handle<promise_type>;

  Coro() noexcept = default;
  explicit Coro(handle_type h) noexcept : h_(h) {}
  Coro(Coro&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Coro& operator=(Coro&& o) noexcept {
    if (this != &o) {
      destroy();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  ~Coro() { destroy(); }

  /// True while this object holds a coroutine that has not been awaited or scheduled.
  explicit operator bool() const noexcept { return h_ && !h_.promise().was_awaited(); }
  /// The coroutine function's name (`coro.__qualname__`), for reprs and traces.
  const char* name() const noexcept { return h_ ? h_.promise().name() : "<empty>"; }

  /// Hands the frame over (to create_task). Throws when empty or already awaited.
  handle_type release() {
    check_awaitable();
    h_.promise().mark_awaited();
    return std::exchange(h_, nullptr);
  }

  // `co_await coro`: runs the coroutine inline, returns its value or rethrows.
  // A Coro is its own awaiter (no operator co_await), so that the awaiting
  // frame keeps one handle for it, not two (8 bytes per level of a chain).
  // Throws RuntimeError when empty or already awaited; else marks it awaited.
  bool await_ready() {
    check_awaitable();
    h_.promise().mark_awaited();
    return false;
  }
  // Runs the coroutine: the awaiting one resumes when it ends.
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    h_.promise().set_continuation(awaiting);
    return h_;
  }
  // Its value, or rethrows its exception.
  T await_resume() {
    promise_type& p = h_.promise();
    if (p.has_exception()) [[unlikely]] std::rethrow_exception(p.exception());
    if constexpr (!std::is_void_v<T>) return std::move(p.value());
  }

 private:
  void check_awaitable() const {
    if (!h_) throw RuntimeError("cannot await an empty or moved-from coroutine");
  }
  void destroy() noexcept {
    if (h_) {
      if (!h_.promise().was_awaited()) [[unlikely]]
        detail::report_never_awaited(h_.promise());
      detail::destroy_frame_bounded(std::exchange(h_, nullptr));
    }
  }
  handle_type h_;
};

/// Python's `try: <body> finally: <cleanup>` when the cleanup awaits.
///
/// C++ allows no `co_await` inside a `catch` block (nor in a destructor), so
/// a `finally:` or `except ...: await ...; raise` needs the exception kept,
/// the handler left, the cleanup awaited, and the exception rethrown. This
/// helper does that once, right:
///
/// ```cpp
/// // Python:                           // C++:
/// // try:                              co_await asyncio::try_finally(
/// //     await work()                      [&]() -> asyncio::Coro<> { co_await work(); },
/// // finally:                              [&]() -> asyncio::Coro<> { co_await writer.wait_closed(); });
/// //     await writer.wait_closed()
/// ```
///
/// `body` and `cleanup` are callables returning something awaitable (a
/// coroutine). Returns the body's value. However the body ends (a value, an
/// exception, CancelledError), the cleanup runs, then the body's exception is
/// rethrown; an exception thrown by the cleanup replaces it, as in Python.
/// Both run inline in the current task (no loop iteration passes for them).
template <class Body, class Cleanup>
Coro<detail::await_value_t<std::invoke_result_t<Body&>>> try_finally(Body body, Cleanup cleanup) {
  using R = detail::await_value_t<std::invoke_result_t<Body&>>;
  std::exception_ptr exc;
  if constexpr (std::is_void_v<R>) {
    try {
      co_await body();
    } catch (...) {
      exc = std::current_exception();
    }
    co_await cleanup();
    if (exc) std::rethrow_exception(exc);
  } else {
    std::optional<R> result;
    try {
      result.emplace(co_await body());
    } catch (...) {
      exc = std::current_exception();
    }
    co_await cleanup();
    if (exc) std::rethrow_exception(exc);
    co_return std::move(*result);
  }
}

namespace detail {
template <class T>
Coro<T> Promise<T>::get_return_object() noexcept {
  return Coro<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Coro<void> Promise<void>::get_return_object() noexcept {
  return Coro<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace asyncio
