#pragma once
/// \file futures.hpp
/// `Future<T>`: a low-level awaitable result (CPython `asyncio/futures.py`).
///
/// A Future is created by `loop.create_future<T>()` and completed by someone
/// else with `set_result`, `set_exception` or `cancel`. Awaiting it suspends
/// the task until then and returns the result or throws the exception
/// (`CancelledError` when cancelled). Done callbacks run on the next loop
/// iteration after completion, in the order they were added.
///
/// ```cpp
/// auto fut = loop.create_future<int>();
/// loop.call_later(1s, [fut]() mutable { fut.set_result(42); });
/// int v = co_await fut;    // Python: v = await fut
/// ```
///
/// `Future<T>` is a copyable handle (reference counted) to the shared state.
/// Python → C++: `fut.result()` → `fut.result()` (a reference to the value);
/// `fut.exception()` → `std::exception_ptr` (null when none);
/// `add_done_callback(cb)`; `remove_done_callback(cb)` removes every
/// registration of a callable equal to `cb` (a function, or a functor with
/// `==`) and returns the count, as Python's. Lambdas with captures cannot be
/// compared: `add_done_callback` also returns an id, and
/// `remove_done_callback(id)` removes that registration.
///
/// A done callback runs later, on the loop, maybe after the function that
/// added it has returned: capture by value (or keep alive what it refers
/// to), never a local by reference. The same holds for `call_soon`.
///
/// Thread safety: use a Future on its loop's thread only; from another thread,
/// go through `loop.call_soon_threadsafe`.
#include <ostream>
#include <sstream>
#include <type_traits>

#include "asyncio/coroutines.hpp"

namespace asyncio {

namespace detail {

/// Prints a value if it can be printed (for reprs), otherwise `...`.
template <class T>
void print_value(std::ostream& os, const T& v) {
  if constexpr (requires { os << v; }) {
    os << v;
  } else {
    os << "...";
  }
}

/// Future state with its typed result: used for heap futures (FutureImpl) and
/// for waiters embedded in awaiters (Waiter).
template <class T>
class TypedFuture : public FutureCore, public ResultSlot<T> {
 public:
  using FutureCore::FutureCore;
  template <class... U>
  void set_result(U&&... v) {
    check_pending("set_result");
    if constexpr (!std::is_void_v<T>) this->emplace(std::forward<U>(v)...);
    this->finish();
  }
  /// result(): the value, or throws (InvalidStateError, CancelledError, the exception).
  decltype(auto) result() {
    this->mark_retrieved();
    rethrow_if_not_value();
    if constexpr (!std::is_void_v<T>) return (this->value());
  }
  void print(std::ostream& os) const {
    os << state_name();
    if constexpr (!std::is_void_v<T>) {
      if (this->state() == FutureState::finished && !this->raw_exception()) {
        os << " result=";
        print_value(os, const_cast<TypedFuture*>(this)->value());
      }
    }
  }

 protected:
  ~TypedFuture() = default;
};

/// A future living inside an awaiter, i.e. in the waiting coroutine's frame
/// (no allocation; the primitives use these for their waiters).
template <class T>
class Waiter final : public TypedFuture<T> {
 public:
  explicit Waiter(LoopCore* loop = nullptr) noexcept : TypedFuture<T>(loop) {}
  void bind(LoopCore* loop) noexcept { this->bind_loop(loop); }
};

/// Heap state behind Future<T>.
template <class T>
class FutureImpl final : public TypedFuture<T>, public Pooled {
 public:
  explicit FutureImpl(LoopCore* loop) noexcept : TypedFuture<T>(loop) {}
  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) {
      if (this->exception_unretrieved()) report_unretrieved_future(*this);
      delete this;
    }
  }

 private:
  static void report_unretrieved_future(FutureCore& f);
  std::uint32_t refs_ = 1;
};
void report_unretrieved(FutureCore& f, std::string repr);
template <class T>
void FutureImpl<T>::report_unretrieved_future(FutureCore& f) {
  std::ostringstream os;
  os << "<Future ";
  static_cast<FutureImpl&>(f).print(os);
  os << ">";
  report_unretrieved(f, os.str());
}

/// Suspends the current task on `fut` (the task is woken by fut's completion).
/// Throws RuntimeError when not in a task or when a task awaits itself.
TaskCore& suspend_on(FutureCore& fut, std::coroutine_handle<> h);

/// Awaiter for anything with a TypedFuture<T> (Future<T>, Waiter<T>).
/// Python: `Future.__await__`: a done future returns at once without yielding.
template <class T>
struct FutureAwaiter {
  TypedFuture<T>* fut;
  TaskCore* task = nullptr;
  bool await_ready() const noexcept { return fut->done(); }
  void await_suspend(std::coroutine_handle<> h) { task = &suspend_on(*fut, h); }
  decltype(auto) await_resume() {
    if (task) task->throw_if_cancel_requested(*fut);
    return fut->result();
  }
};

}  // namespace detail

/// A handle to a future; see the file comment.
template <class T = void>
class Future {
 public:
  using value_type = T;
  Future() noexcept = default;
  /// A pending future bound to `loop` (prefer `loop.create_future<T>()`).
  explicit Future(detail::LoopCore& loop) : p_(detail::Ref<detail::FutureImpl<T>>::adopt(new detail::FutureImpl<T>(&loop))) {}

  bool done() const { return impl().done(); }
  bool cancelled() const { return impl().cancelled(); }
  /// Future.cancel(msg): false when already done.
  bool cancel(std::string msg = {}) { return impl().cancel(std::move(msg)); }
  /// Sets the result; InvalidStateError when already done.
  template <class... U>
  void set_result(U&&... v) {
    impl().set_result(std::forward<U>(v)...);
  }
  /// Sets the exception; InvalidStateError when already done.
  void set_exception(std::exception_ptr e) { impl().set_exception_ptr(std::move(e)); }
  template <class E>
    requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>)
  void set_exception(E&& e) {
    set_exception(std::make_exception_ptr(std::forward<E>(e)));
  }
  /// The result (by reference); throws if not done, cancelled or failed.
  decltype(auto) result() const { return impl().result(); }
  /// The exception (null when none); throws if not done or cancelled.
  std::exception_ptr exception() const { return impl().exception(); }

  /// Adds `fn(Future<T>&)` (or `fn()`), called on the next iteration after completion.
  template <class F>
  std::uint64_t add_done_callback(F fn) {
    auto id = detail::next_callback_id();
    impl().add_callback(detail::make_done_callback(id, *this, std::move(fn)));
    return id;
  }
  /// Removes the callback with this id if not yet scheduled; returns how many were removed.
  std::size_t remove_done_callback(std::uint64_t id) { return impl().remove_user_callback(id); }
  /// `fut.remove_done_callback(fn)`: removes every registration of `fn` not yet
  /// scheduled (callables compared with ==); returns how many.
  template <class F>
    requires(!std::is_integral_v<F> && std::equality_comparable<std::decay_t<F>>)
  std::size_t remove_done_callback(const F& fn) {
    return detail::remove_done_callbacks_equal<std::decay_t<F>, Future>(impl(), fn);
  }

  /// `await fut`; InvalidStateError("empty Future handle") for an empty handle.
  auto operator co_await() const { return detail::FutureAwaiter<T>{&impl()}; }

  explicit operator bool() const noexcept { return static_cast<bool>(p_); }
  friend bool operator==(const Future& a, const Future& b) noexcept { return a.p_ == b.p_; }
  friend std::ostream& operator<<(std::ostream& os, const Future& f) {
    if (!f.p_) return os << "<Future empty>";
    os << "<Future ";
    f.p_->print(os);
    return os << ">";
  }
  detail::FutureImpl<T>& impl() const {
    if (!p_) throw InvalidStateError("empty Future handle");
    return *p_;
  }

 private:
  detail::Ref<detail::FutureImpl<T>> p_;
};

}  // namespace asyncio
