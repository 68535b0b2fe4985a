#pragma once
/// \file tasks_combinators.hpp
/// The combinators of CPython `asyncio/tasks.py` (its second half):
/// `ensure_future`, `gather`, `wait`, `wait_for`, `shield`, `as_completed`,
/// and `Outcome<T>` (gather's `return_exceptions=True` results). Task,
/// create_task and sleep are in tasks.hpp; compiled parts in
/// src/tasks_combinators.cpp.
//
// ============================================================================
// Combinators: ensure_future, gather, wait, wait_for, shield, as_completed
// (the second half of CPython `asyncio/tasks.py`). Compiled parts are in
// src/tasks_combinators.cpp. Python → C++:
//
// | Python                                          | C++                                                     |
// |-------------------------------------------------|---------------------------------------------------------|
// | `await asyncio.gather(a(), b())`                | `auto [x, y] = co_await asyncio::gather(a(), b());` (std::tuple) |
// | `await asyncio.gather(*coros)`                  | `std::vector<T> r = co_await asyncio::gather(std::move(coros));` |
// | `await asyncio.gather(..., return_exceptions=True)` | `co_await asyncio::gather(asyncio::return_exceptions, ...)` (Outcome<T> each) |
// | `done, pending = await asyncio.wait(fs, timeout=1, return_when=FIRST_COMPLETED)` | `auto [done, pending] = co_await asyncio::wait(fs, 1s, asyncio::FIRST_COMPLETED);` |
// | `await asyncio.wait_for(aw, timeout=1.0)`       | `co_await asyncio::wait_for(aw, 1s)`                    |
// | `await asyncio.shield(aw)`                      | `co_await asyncio::shield(aw)`                          |
// | `for c in asyncio.as_completed(fs): r = await c` | `for (auto c : asyncio::as_completed(fs)) { auto r = co_await std::move(c); }` |
//
// What each accepts, as Python's awaitables: a coroutine object `Coro<T>`
// (wrapped in a task), a `Task<T>`, a `Future<T>`, or any other awaitable
// (e.g. `asyncio::sleep(1s, value)`, wrapped in a task). A `void` result is
// `std::monostate` in gather's results (Python's None).
// ============================================================================
#include <deque>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ranges>
#include <tuple>
#include <unordered_set>
#include <variant>

#include "asyncio/detail/awaitable.hpp"
#include "asyncio/detail/big_buffer.hpp"
#include "asyncio/repr.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/timeouts.hpp"  // wait_for is a timeout around an await, as in 3.12

/// Hashing by identity, so that tasks and futures go in unordered sets (wait's results).
template <>
struct std::hash<asyncio::AnyTask> {
  std::size_t operator()(const asyncio::AnyTask& t) const noexcept {
    return std::hash<const void*>{}(t ? static_cast<const void*>(&t.core()) : nullptr);
  }
};
template <class T>
struct std::hash<asyncio::Task<T>> : std::hash<asyncio::AnyTask> {};
template <class T>
struct std::hash<asyncio::Future<T>> {
  std::size_t operator()(const asyncio::Future<T>& f) const noexcept {
    return std::hash<const void*>{}(f ? static_cast<const void*>(&f.impl()) : nullptr);
  }
};

namespace asyncio {

namespace detail {

/// Typed access to the state behind a Task<T> or Future<T> handle, through
/// its FutureCore (the combinators keep children as FutureCore pointers).
template <class H>
struct HandleTraits;
template <class T>
struct HandleTraits<Task<T>> {
  using value_type = T;
  static FutureCore* acquire(const Task<T>& t) {
    TaskCore& c = t.core();
    c.add_ref();
    return &c;
  }
  static void release(FutureCore* f) noexcept { static_cast<TaskCore*>(f)->release(); }
  static TaskImpl<T>& state(FutureCore* f) noexcept { return static_cast<TaskImpl<T>&>(*static_cast<TaskCore*>(f)); }
};
template <class T>
struct HandleTraits<Future<T>> {
  using value_type = T;
  static FutureCore* acquire(const Future<T>& f) {
    FutureImpl<T>& i = f.impl();
    i.add_ref();
    return &i;
  }
  static void release(FutureCore* f) noexcept { static_cast<FutureImpl<T>*>(f)->release(); }
  static FutureImpl<T>& state(FutureCore* f) noexcept { return static_cast<FutureImpl<T>&>(*f); }
};

/// The FutureCore behind a task or future handle.
inline FutureCore& future_core(const AnyTask& t) { return t.core(); }
template <class T>
FutureCore& future_core(const Future<T>& f) {
  return f.impl();
}

/// A copy of a finished child's value (moved out when T is move-only).
template <class H>
auto child_value(FutureCore* f) {
  using T = typename HandleTraits<H>::value_type;
  if constexpr (std::is_void_v<T>) {
    return std::monostate{};
  } else if constexpr (std::is_copy_constructible_v<T>) {
    return T(HandleTraits<H>::state(f).value());
  } else {
    return T(std::move(HandleTraits<H>::state(f).value()));
  }
}

}  // namespace detail

/// `asyncio.ensure_future(aw)`: a coroutine becomes a task (scheduled); a task
/// or future is returned as is; another awaitable is wrapped in a task.
template <class T>
Task<T> ensure_future(Coro<T> coro) {
  return create_task(std::move(coro));
}
template <class T>
Task<T> ensure_future(Task<T> task) {
  return task;
}
template <class T>
Future<T> ensure_future(Future<T> fut) {
  return fut;
}
template <detail::ForeignAwaitable A>
Task<detail::await_value_t<A>> ensure_future(A aw) {
  return create_task(detail::wrap_awaitable(std::move(aw)));
}
// (create_task of such an awaitable is the core's overload above.)

namespace detail {
/// Whether a range's elements are consumed (coroutines and other awaitables
/// are moved out of the range) rather than shared (task and future handles).
template <class Elem>
inline constexpr bool consumed_v = !std::derived_from<std::remove_cvref_t<Elem>, AnyTask> &&
                                   !is_future_v<std::remove_cvref_t<Elem>>;
/// The handle `ensure_future(a)` returns: Task<T> or Future<T>.
template <class A>
using future_handle_t = decltype(ensure_future(std::declval<A>()));
/// What a gather result holds for a child of handle type H (void → std::monostate).
template <class H>
using gather_value_t = std::conditional_t<std::is_void_v<typename HandleTraits<H>::value_type>, std::monostate,
                                          typename HandleTraits<H>::value_type>;
}  // namespace detail

// ---- Outcome: a value or an exception (gather's return_exceptions results) ----


/// Either the value a child returned or the exception it raised: the element
/// of `gather(return_exceptions, ...)`'s results (Python puts the exception
/// object itself in the result list). Prints like Python's repr:
/// `24`, `'text'`, `None`, `RuntimeError('Too big number')`; a vector or tuple
/// of Outcomes prints as a Python list: `[2, 6, 24, RuntimeError('Too big number')]`.
template <class T>
class Outcome {
  static_assert(!std::is_same_v<T, std::exception_ptr>, "Outcome<std::exception_ptr> would be ambiguous");

 public:
  using value_type = T;
  Outcome(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Outcome(std::exception_ptr e) : v_(std::in_place_index<1>, std::move(e)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  bool has_exception() const noexcept { return v_.index() == 1; }
  /// The value; rethrows the exception when there is one (CancelledError for a
  /// cancelled child).
  T& value() & {
    if (has_exception()) std::rethrow_exception(std::get<1>(v_));
    return std::get<0>(v_);
  }
  const T& value() const& {
    if (has_exception()) std::rethrow_exception(std::get<1>(v_));
    return std::get<0>(v_);
  }
  T&& value() && { return std::move(value()); }
  /// The exception, or null when there is a value.
  std::exception_ptr exception() const noexcept { return has_exception() ? std::get<1>(v_) : nullptr; }

  friend std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    if (o.has_exception()) return os << exception_repr(std::get<1>(o.v_));
    py_repr_to(os, std::get<0>(o.v_));
    return os;
  }

 private:
  std::variant<T, std::exception_ptr> v_;
};


/// Prints gather's results as a Python list.
template <class T>
std::ostream& operator<<(std::ostream& os, const std::vector<Outcome<T>>& v) {
  os << '[';
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  return os << ']';
}
template <class... T>
std::ostream& operator<<(std::ostream& os, const std::tuple<Outcome<T>...>& t) {
  os << '[';
  std::apply(
      [&os](const auto&... o) {
        const char* sep = "";
        ((os << sep << o, sep = ", "), ...);
      },
      t);
  return os << ']';
}

/// The tag selecting gather's `return_exceptions=True` form.
struct return_exceptions_t {
  explicit constexpr return_exceptions_t() = default;
};
inline constexpr return_exceptions_t return_exceptions{};

// ---- gather ------------------------------------------------------------------------

namespace detail {

/// gather's bookkeeping, whatever the result types [tasks._GatheringFuture and
/// gather's `_done_callback`]: the children (a counted reference each) and
/// the count of those finished. The gather watches each child
/// (FutureCore::add_watcher): a task child carries the call itself, with no
/// node (W1 gathers a million tasks: 8 bytes per child, not 24).
///
/// Invariant: while some child's call has not run yet (registered on the
/// child or queued on the loop), the state holds a reference to itself (the
/// "children's reference"), dropped by the last call.
class GatherCore : public ChildWatcher {
 public:
  GatherCore(const GatherCore&) = delete;
  GatherCore& operator=(const GatherCore&) = delete;
  /// Takes child `i` (a counted reference) and registers the gather's call,
  /// or notes it done; one pass over the children, as gather's loop.
  /// ValueError when the child belongs to another loop (ensure_future's
  /// "The future belongs to a different loop ..."): it would never wake us.
  void add_child(std::size_t i, FutureCore* child) {
    children_[i] = child;
    if (child->loop() != outer_->loop()) [[unlikely]] throw_different_loop();
    if (child->done()) {
      ++ndone_at_start_;
    } else {
      child->add_watcher(this);
    }
  }
  /// When gather fails half-way: unregisters from the children added so far,
  /// before the state is deleted.
  void abort_children() noexcept;
  /// After add_child for every child: runs `_done_callback` at once for the
  /// children already done, in order, as 3.12's gather does for `done_futs`
  /// (so a gather of done futures is done without yielding).
  void start();
  /// `_GatheringFuture.cancel`: cancels the children; true if any accepted.
  bool cancel_children(const std::string& msg);
  /// `_done_callback(child)`.
  void on_child_done(FutureCore& child) override;
  /// A child's call will never run (the loop closed with it queued).
  void on_child_dropped() noexcept override {
    if (++nfinished_ == nfuts_) drop_children_ref();  // may destroy *this
  }
  std::size_t size() const noexcept { return nfuts_; }

 protected:
  GatherCore(FutureCore& outer, bool return_exceptions) noexcept
      : outer_(&outer), return_exceptions_(return_exceptions) {}
  virtual ~GatherCore() = default;
  void bind(FutureCore** children, std::size_t n) noexcept {
    children_ = children;
    nfuts_ = n;
    std::fill_n(children, n, nullptr);
  }
  /// Every child is done and no cancel was requested: set the results.
  virtual void set_results() = 0;
  virtual void drop_children_ref() noexcept = 0;
  /// The last child is done and the gather is still pending.
  void on_all_done();
  [[noreturn]] static void throw_different_loop();

  FutureCore* outer_;
  FutureCore** children_ = nullptr;
  std::size_t nfuts_ = 0;
  std::size_t nfinished_ = 0;
  std::size_t ndone_at_start_ = 0;
  bool return_exceptions_;
  bool cancel_requested_ = false;
};

/// The future gather returns, with its result type.
template <class R>
class GatherFuture : public TypedFuture<R>, public GatherCore, public Pooled {
 public:
  bool cancel(std::string msg = {}) override {
    if (this->done()) return false;
    return cancel_children(msg);
  }
  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) {
      if (this->exception_unretrieved()) report_unretrieved(*this, repr());
      delete this;
    }
  }
  /// One reference only: the handle of whoever asks (once done, the children hold none).
  bool sole_reference() const noexcept { return refs_ == 1; }
  std::string repr() const {
    std::ostringstream os;
    os << "<_GatheringFuture " << this->state_name() << ">";
    return os.str();
  }
 protected:
  GatherFuture(LoopCore* loop, bool return_exceptions) noexcept
      : TypedFuture<R>(loop), GatherCore(static_cast<FutureCore&>(*this), return_exceptions) {}
  void drop_children_ref() noexcept override { release(); }
  std::uint32_t refs_ = 2;  // the handle's and the children's
};

/// Element of the results for a child of handle type H.
template <class H, bool ReturnExceptions>
using gather_elem_t = std::conditional_t<ReturnExceptions, Outcome<gather_value_t<H>>, gather_value_t<H>>;

template <class H, bool ReturnExceptions>
gather_elem_t<H, ReturnExceptions> gather_take(FutureCore* f) {
  if constexpr (ReturnExceptions) {
    // CPython: `exceptions.CancelledError('' if fut._cancel_message is None else
    // fut._cancel_message)`, which is '' for a cancelled task (3.11-3.13).
    if (f->cancelled()) return {std::make_exception_ptr(CancelledError(f->gather_cancel_message()))};
    if (std::exception_ptr e = f->exception()) return {std::move(e)};
  }
  return child_value<H>(f);
}

/// gather over a range: results in a std::vector, made when the last child
/// is done (CPython: `results = [fut.result() for fut in children]`).
template <class H, bool ReturnExceptions>
class GatherVector final : public GatherFuture<std::vector<gather_elem_t<H, ReturnExceptions>>> {
 public:
  using Elem = gather_elem_t<H, ReturnExceptions>;
  GatherVector(LoopCore* loop, std::size_t n)
      : GatherFuture<std::vector<Elem>>(loop, ReturnExceptions),
        children_(n == 0 ? nullptr : static_cast<FutureCore**>(big_allocate(n * sizeof(FutureCore*)))) {
    this->bind(children_, n);
  }
  ~GatherVector() override {
    for (std::size_t i = 0; i < this->nfuts_; ++i) {
      if (children_[i] != nullptr) HandleTraits<H>::release(children_[i]);
    }
    big_deallocate(children_, this->nfuts_ * sizeof(FutureCore*));
  }

 private:
  void set_results() override {
    std::vector<Elem> results;
    results.reserve(this->nfuts_);
    for (std::size_t i = 0; i < this->nfuts_; ++i) results.push_back(gather_take<H, ReturnExceptions>(children_[i]));
    this->set_result(std::move(results));
  }
  FutureCore** children_;  // a big buffer (100,000 children: 800 KB)
};

/// gather over arguments: results in a std::tuple.
template <bool ReturnExceptions, class... H>
class GatherTuple final : public GatherFuture<std::tuple<gather_elem_t<H, ReturnExceptions>...>> {
 public:
  using Result = std::tuple<gather_elem_t<H, ReturnExceptions>...>;
  explicit GatherTuple(LoopCore* loop) : GatherFuture<Result>(loop, ReturnExceptions) {
    this->bind(children_.data(), sizeof...(H));
  }
  ~GatherTuple() override { release_all(std::index_sequence_for<H...>{}); }

 private:
  template <std::size_t... I>
  void release_all(std::index_sequence<I...>) noexcept {
    ((children_[I] != nullptr ? HandleTraits<H>::release(children_[I]) : void()), ...);
  }
  template <std::size_t... I>
  Result take_all(std::index_sequence<I...>) {
    return Result(gather_take<H, ReturnExceptions>(children_[I])...);
  }
  void set_results() override { this->set_result(take_all(std::index_sequence_for<H...>{})); }
  std::array<FutureCore*, sizeof...(H)> children_;
};

}  // namespace detail

/// What gather returns (CPython's `_GatheringFuture`): a future of the
/// results that is already running. `cancel()` cancels the children.
///
/// A copyable handle, shared like a Task: `co_await g` (however written)
/// returns a copy of the results; `co_await std::move(g).take()` moves them
/// out (the one explicit request; needed when a result is move-only), after
/// which `result()` throws InvalidStateError.
///
/// Name its type without decltype: `asyncio::GatheringFuture<std::tuple<int, std::string>>`
/// for `gather(a, b)`, `asyncio::GatheringFuture<std::vector<int>>` for a range,
/// or the aliases `GatherOf<int, std::string>` and `GatherVectorOf<int>`
/// (with return_exceptions: `GatherOf<Outcome<int>, ...>`, `GatherVectorOf<Outcome<int>>`).
template <class R>
class GatheringFuture {
 public:
  using value_type = R;
  GatheringFuture() noexcept = default;
  explicit GatheringFuture(detail::GatherFuture<R>* p) noexcept : p_(detail::Ref<detail::GatherFuture<R>>::adopt(p)) {}  // adopts a reference

  bool done() const { return impl().done(); }
  bool cancelled() const { return impl().cancelled(); }
  /// Cancels every child not done yet; true if any accepted. The gather then
  /// ends with CancelledError (even with return_exceptions, CPython bpo-32684).
  bool cancel(std::string msg = {}) { return impl().cancel(std::move(msg)); }
  /// The results (a reference); throws as Future::result().
  R& result() const {
    auto& f = impl();
    f.rethrow_if_not_value();
    return detail::taken_check(f).value();
  }
  std::exception_ptr exception() const { return impl().exception(); }
  /// Adds `fn(GatheringFuture&)` or `fn()`, run on the next iteration after completion.
  template <class F>
  std::uint64_t add_done_callback(F fn) {
    auto id = detail::next_callback_id();
    impl().add_callback(detail::make_done_callback(id, *this, std::move(fn)));
    return id;
  }
  std::size_t remove_done_callback(std::uint64_t id) { return impl().remove_user_callback(id); }
  /// Removes every registration of a callable equal to `fn`; returns how many.
  template <class F>
    requires(!std::is_integral_v<F> && std::equality_comparable<std::decay_t<F>>)
  std::size_t remove_done_callback(const F& fn) {
    return detail::remove_done_callbacks_equal<std::decay_t<F>, GatheringFuture>(impl(), fn);
  }

  template <bool Take>
  struct BasicAwaiter {
    detail::GatherFuture<R>* p;
    detail::TaskCore* waiting = nullptr;
    bool await_ready() const noexcept { return p->done(); }
    void await_suspend(std::coroutine_handle<> h) { waiting = &detail::suspend_on(*p, h); }
    R await_resume() {
      if (waiting) waiting->throw_if_cancel_requested(*p);
      p->rethrow_if_not_value();
      R& r = detail::taken_check(*p).value();
      if constexpr (Take || !std::is_copy_constructible_v<R>) {
        R out(std::move(r));
        p->reset();
        return out;
      } else {
        return r;
      }
    }
  };
  using Awaiter = BasicAwaiter<false>;
  /// `await gather(...)`: a copy of the results (see the class comment).
  Awaiter operator co_await() const& {
    static_assert(std::is_copy_constructible_v<R>,
                  "co_await on a GatheringFuture copies its results (a shared handle, as in Python); "
                  "for move-only results write `co_await std::move(g).take()`");
    return Awaiter{&impl(), nullptr};
  }
  /// The same on a temporary (`co_await gather(...)`), which the awaiter keeps:
  /// when no other handle shares the gather then, the results are moved out
  /// instead of copied (nothing could see them any more; W3's tail: 100,000
  /// results copied cost ~2.5 ms of fresh pages).
  struct KeepAwaiter : Awaiter {
    GatheringFuture keep;
    R await_resume() {
      if (!keep.p_->sole_reference()) return Awaiter::await_resume();
      return BasicAwaiter<true>{this->p, this->waiting}.await_resume();
    }
  };
  KeepAwaiter operator co_await() && {
    static_assert(std::is_copy_constructible_v<R>,
                  "co_await on a GatheringFuture copies its results (a shared handle, as in Python); "
                  "for move-only results write `co_await std::move(g).take()`");
    return KeepAwaiter{{&impl(), nullptr}, std::move(*this)};
  }
  /// Awaits the gather and moves the results out of it (keeps it alive meanwhile).
  struct TakeAwaiter : BasicAwaiter<true> {
    GatheringFuture keep;
  };
  [[nodiscard]] TakeAwaiter take() && { return TakeAwaiter{{&impl(), nullptr}, *this}; }

  explicit operator bool() const noexcept { return static_cast<bool>(p_); }
  friend bool operator==(const GatheringFuture& a, const GatheringFuture& b) noexcept { return a.p_ == b.p_; }
  friend std::ostream& operator<<(std::ostream& os, const GatheringFuture& g) {
    return os << (g.p_ ? g.p_->repr() : std::string("<_GatheringFuture empty>"));
  }
  detail::GatherFuture<R>& impl() const {
    if (!p_) throw InvalidStateError("empty GatheringFuture handle");
    return *p_;
  }

 private:
  detail::Ref<detail::GatherFuture<R>> p_;
};

/// The type of `gather(a, b, ...)` whose children return T...: `GatherOf<int, std::string>`
/// (void children: `std::monostate`; with return_exceptions: `Outcome<T>` each).
template <class... T>
using GatherOf = GatheringFuture<std::tuple<T...>>;
/// The type of `gather(range)` whose children return T: `GatherVectorOf<int>`.
template <class T>
using GatherVectorOf = GatheringFuture<std::vector<T>>;

namespace detail {

/// A Coro named by an lvalue: gather would have to steal it.
template <class A>
inline constexpr bool is_lvalue_coro_v = std::is_lvalue_reference_v<A> && is_coro_v<std::remove_cvref_t<A>>;
/// A task or future handle whose result is move-only: gather cannot copy it out.
template <class A>
inline constexpr bool is_shared_move_only_v = [] {
  if constexpr (std::derived_from<std::remove_cvref_t<A>, AnyTask> || is_future_v<std::remove_cvref_t<A>>) {
    using T = typename std::remove_cvref_t<A>::value_type;
    return !std::is_void_v<T> && !std::is_copy_constructible_v<T>;
  } else {
    return false;
  }
}();

template <bool RE, class... A>
auto gather_args(A&&... aws) {
  using State = GatherTuple<RE, future_handle_t<A>...>;
  using Result = typename State::Result;
  auto* st = new State(&running_loop_core());
  std::size_t i = 0;
  try {
    ((st->add_child(i, HandleTraits<future_handle_t<A>>::acquire(ensure_future(std::forward<A>(aws)))), ++i), ...);
  } catch (...) {
    st->abort_children();
    delete st;
    throw;
  }
  st->start();
  return GatheringFuture<Result>(st);
}

template <bool RE, class Range>
auto gather_range(Range&& aws) {
  using Elem = std::ranges::range_reference_t<Range>;
  using H = future_handle_t<std::conditional_t<consumed_v<Elem>, std::remove_cvref_t<Elem>&&,
                                               const std::remove_cvref_t<Elem>&>>;
  using State = GatherVector<H, RE>;
  using Result = std::vector<gather_elem_t<H, RE>>;
  using Plain = std::remove_cvref_t<Range>;
  if constexpr (std::is_rvalue_reference_v<Range&&> && !std::ranges::view<Plain> &&
                std::is_move_constructible_v<Plain>) {
    // An rvalue container is consumed: its storage goes when gather returns,
    // before the children run (W1 gathers a million task handles).
    Plain owned(std::move(aws));
    return gather_range<RE>(owned);
  } else if constexpr (!std::ranges::sized_range<Range>) {
    std::vector<H> handles;
    for (auto&& a : aws) {
      if constexpr (consumed_v<Elem>) {
        handles.push_back(ensure_future(std::move(a)));
      } else {
        handles.push_back(ensure_future(a));
      }
    }
    return gather_range<RE>(handles);
  } else {
    auto n = static_cast<std::size_t>(std::ranges::size(aws));
    auto* st = new State(&running_loop_core(), n);
    std::size_t i = 0;
    try {
      for (auto&& a : aws) {
        if constexpr (consumed_v<Elem>) {
          st->add_child(i++, HandleTraits<H>::acquire(ensure_future(std::move(a))));
        } else {
          st->add_child(i++, HandleTraits<H>::acquire(a));  // no temporary handle
        }
      }
    } catch (...) {
      st->abort_children();
      delete st;
      throw;
    }
    st->start();
    return GatheringFuture<Result>(st);
  }
}

template <class R>
concept GatherRange = std::ranges::input_range<R> && !Awaitable<R> &&
                      Awaitable<std::ranges::range_reference_t<R>>;

}  // namespace detail

namespace detail {
/// gather(aws...)'s checks, with the messages users see, then gather_args.
template <bool ReturnExceptions, class... A>
auto gather_checked(A&&... aws) {
  static_assert((!is_lvalue_coro_v<A> && ...),
                "gather(c): a Coro is move-only and gather consumes it; write gather(std::move(c))");
  static_assert((!is_shared_move_only_v<A> && ...),
                "gather(task) copies each result (a Task is a shared handle); for a move-only result pass "
                "the coroutine itself, or await `std::move(task).take()`");
  if constexpr ((!is_lvalue_coro_v<A> && ...) && (!is_shared_move_only_v<A> && ...)) {
    return gather_args<ReturnExceptions>(std::forward<A>(aws)...);
  } else {
    return GatheringFuture<std::tuple<>>();  // not reached: keeps the error to the static_assert
  }
}
}  // namespace detail

/// `asyncio.gather(*aws)`: runs the awaitables concurrently (coroutines are
/// wrapped in tasks, scheduled now) and returns a GatheringFuture of their
/// results, in argument order, as a `std::tuple` (void → `std::monostate`).
///
/// The first exception (or cancellation) of a child propagates at once to
/// whoever awaits the gather; the other children keep running. Cancelling
/// the gather cancels the children that are not done. The gather completes on
/// the loop iteration after its last child, as in CPython.
///
/// ```cpp
/// auto [a, b] = co_await asyncio::gather(fetch("a"), fetch("b"));
/// ```
template <class... A>
  requires(detail::Awaitable<A> && ...)
auto gather(A&&... aws) {
  return detail::gather_checked<false>(std::forward<A>(aws)...);
}
/// `asyncio.gather(*aws, return_exceptions=True)`: exceptions are results too;
/// each element is an Outcome<T> (a value or an exception).
template <class... A>
  requires(detail::Awaitable<A> && ...)
auto gather(return_exceptions_t, A&&... aws) {
  return detail::gather_checked<true>(std::forward<A>(aws)...);
}
/// `asyncio.gather(*aws)` over a range (e.g. a std::vector of coroutines or
/// tasks, or a lazy view producing coroutines): the results in a std::vector,
/// in the range's order. Coroutines in the range are moved out of it; an
/// rvalue container is consumed (`gather(std::move(tasks))` frees its storage).
template <detail::GatherRange R>
auto gather(R&& aws) {
  return detail::gather_range<false>(std::forward<R>(aws));
}
/// `asyncio.gather(*aws, return_exceptions=True)` over a range: a std::vector of Outcome<T>.
template <detail::GatherRange R>
auto gather(return_exceptions_t, R&& aws) {
  return detail::gather_range<true>(std::forward<R>(aws));
}

// ---- wait --------------------------------------------------------------------------

/// When `wait` returns (`asyncio.FIRST_COMPLETED`, ...).
enum class ReturnWhen : std::uint8_t { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

/// What `wait` returns: `auto [done, pending] = co_await asyncio::wait(...)`.
template <class F>
struct WaitResult {
  std::unordered_set<F> done;
  std::unordered_set<F> pending;
};

namespace detail {

template <class F>
concept WaitElement = std::derived_from<F, AnyTask> || is_future_v<F>;

/// wait's shared state [tasks._wait's closure].
struct WaitState {
  WaitState(Future<void> w, ReturnWhen rw, std::size_t n) : waiter(std::move(w)), return_when(rw),
      counter(static_cast<std::ptrdiff_t>(n)) {}
  Future<void> waiter;
  Handle timeout_handle;
  ReturnWhen return_when;
  std::ptrdiff_t counter;
  /// `_on_completion(f)`.
  void on_completion(FutureCore& f);
};

/// Removes wait's callbacks and disarms its timer when the wait ends, however
/// it ends (the `finally:` of tasks._wait).
struct WaitCleanup {
  std::shared_ptr<WaitState> state;
  std::vector<std::pair<FutureCore*, std::uint64_t>> callbacks;
  ~WaitCleanup();
};

std::shared_ptr<WaitState> make_wait_state(ReturnWhen rw, std::size_t n, std::optional<std::int64_t> timeout_ns);

template <class F>
Coro<WaitResult<F>> wait_impl(std::vector<F> fs, std::optional<std::int64_t> timeout_ns, ReturnWhen rw) {
  if (fs.empty()) throw ValueError("Set of Tasks/Futures is empty.");
  std::unordered_set<F> set(fs.begin(), fs.end());  // fs = set(fs)
  WaitCleanup cleanup{make_wait_state(rw, set.size(), timeout_ns), {}};
  cleanup.callbacks.reserve(set.size());
  for (const F& f : set) {
    FutureCore& core = future_core(f);
    auto id = next_callback_id();
    core.add_callback(new UserCallback(id, [st = cleanup.state, f] { st->on_completion(future_core(f)); }));
    cleanup.callbacks.emplace_back(&core, id);
  }
  co_await cleanup.state->waiter;
  WaitResult<F> out;
  for (const F& f : set) (future_core(f).done() ? out.done : out.pending).insert(f);
  co_return out;
}

}  // namespace detail

/// `asyncio.wait(fs, return_when=...)`: waits until the tasks/futures in `fs`
/// are done as `return_when` says, and returns `{done, pending}`. Never
/// cancels anything. `fs` holds tasks or futures, not coroutines (as Python
/// 3.11+); ValueError when empty. Like CPython's, it
/// has no shortcut for futures already done: it returns two loop iterations
/// later at the earliest.
///
/// ```cpp
/// std::vector<asyncio::AnyTask> fs{fast, slow};   // Python's {fast, slow}
/// auto [done, pending] = co_await asyncio::wait(fs, asyncio::FIRST_COMPLETED);
/// ```
/// (g++ 12 rejects a braced list inside a `co_await` expression, "array used as
/// initializer", so name the vector; with clang, `wait({fast, slow}, ...)` works.)
template <std::ranges::input_range R>
  requires detail::WaitElement<std::ranges::range_value_t<R>>
Coro<WaitResult<std::ranges::range_value_t<R>>> wait(R&& fs, ReturnWhen return_when = ALL_COMPLETED) {
  using F = std::ranges::range_value_t<R>;
  return detail::wait_impl(std::vector<F>(std::ranges::begin(fs), std::ranges::end(fs)), std::nullopt,
                           return_when);
}
/// `asyncio.wait(fs, timeout=..., return_when=...)`: also returns when the
/// timeout passes (what is not done then is in `pending`, still running).
template <std::ranges::input_range R, class Rep, class Period>
  requires detail::WaitElement<std::ranges::range_value_t<R>>
Coro<WaitResult<std::ranges::range_value_t<R>>> wait(R&& fs, std::chrono::duration<Rep, Period> timeout,
                                                     ReturnWhen return_when = ALL_COMPLETED) {
  using F = std::ranges::range_value_t<R>;
  return detail::wait_impl(std::vector<F>(std::ranges::begin(fs), std::ranges::end(fs)), detail::delay_to_ns(timeout),
                           return_when);
}
template <std::ranges::input_range R>
  requires detail::WaitElement<std::ranges::range_value_t<R>>
Coro<WaitResult<std::ranges::range_value_t<R>>> wait(R&& fs, double timeout_seconds,
                                                     ReturnWhen return_when = ALL_COMPLETED) {
  using F = std::ranges::range_value_t<R>;
  return detail::wait_impl(std::vector<F>(std::ranges::begin(fs), std::ranges::end(fs)),
                           detail::delay_to_ns(timeout_seconds), return_when);
}
/// `asyncio.wait({t1, t2}, ...)` with tasks of different result types.
inline Coro<WaitResult<AnyTask>> wait(std::initializer_list<AnyTask> fs, ReturnWhen return_when = ALL_COMPLETED) {
  return detail::wait_impl(std::vector<AnyTask>(fs), std::nullopt, return_when);
}
template <class Rep, class Period>
Coro<WaitResult<AnyTask>> wait(std::initializer_list<AnyTask> fs, std::chrono::duration<Rep, Period> timeout,
                               ReturnWhen return_when = ALL_COMPLETED) {
  return detail::wait_impl(std::vector<AnyTask>(fs), detail::delay_to_ns(timeout), return_when);
}
inline Coro<WaitResult<AnyTask>> wait(std::initializer_list<AnyTask> fs, double timeout_seconds,
                                      ReturnWhen return_when = ALL_COMPLETED) {
  return detail::wait_impl(std::vector<AnyTask>(fs), detail::delay_to_ns(timeout_seconds), return_when);
}

// ---- wait_for ----------------------------------------------------------------------

namespace detail {

/// `_cancel_and_wait(fut)`: cancels `fut` and waits until it is done; the
/// wait itself stays cancellable. The caller keeps `fut` alive.
Coro<void> cancel_and_wait(FutureCore& fut);

template <class A>
Coro<await_value_t<A>> wait_for_impl(A aw, std::optional<std::int64_t> timeout_ns) {
  if (timeout_ns && *timeout_ns <= 0) {
    // A zero timeout: the awaitable gets no chance to run (3.12's special case).
    auto fut = ensure_future(std::move(aw));
    if (fut.done()) co_return fut.result();
    co_await cancel_and_wait(future_core(fut));
    try {
      co_return fut.result();
    } catch (const CancelledError&) {
      throw TimeoutError();
    }
  }
  std::optional<std::int64_t> when;
  if (timeout_ns) when = deadline_after(get_running_loop().now_ns(), *timeout_ns);
  co_return co_await timeout_scope(Timeout::Nanoseconds{when}, std::move(aw));
}

}  // namespace detail

/// `asyncio.wait_for(aw, timeout)` (3.12): awaits `aw` under a deadline. On
/// timeout the awaitable is cancelled (a task passed in is cancelled too), and
/// wait_for waits until it has finished before throwing TimeoutError. A
/// coroutine runs inline in the current task, as in 3.12. A timeout of zero or
/// less cancels at once; `std::nullopt` means no timeout.
template <detail::Awaitable A, class Rep, class Period>
Coro<detail::await_value_t<A>> wait_for(A&& aw, std::chrono::duration<Rep, Period> timeout) {
  return detail::wait_for_impl<std::remove_cvref_t<A>>(std::forward<A>(aw), detail::delay_to_ns(timeout));
}
template <detail::Awaitable A>
Coro<detail::await_value_t<A>> wait_for(A&& aw, double timeout_seconds) {
  return detail::wait_for_impl<std::remove_cvref_t<A>>(std::forward<A>(aw), detail::delay_to_ns(timeout_seconds));
}
template <detail::Awaitable A>
Coro<detail::await_value_t<A>> wait_for(A&& aw, std::nullopt_t) {
  return detail::wait_for_impl<std::remove_cvref_t<A>>(std::forward<A>(aw), std::nullopt);
}

// ---- shield ------------------------------------------------------------------------

namespace detail {
template <class H, class T>
void shield_inner_done(H& inner, Future<T>& outer) {
  FutureCore* ic = &future_core(inner);
  if (outer.cancelled()) {
    if (!ic->cancelled()) (void)ic->exception();  // mark the inner's exception retrieved
    return;
  }
  if (ic->cancelled()) {
    outer.cancel();
  } else if (std::exception_ptr e = ic->exception()) {
    outer.set_exception(std::move(e));
  } else if constexpr (std::is_void_v<T>) {
    outer.set_result();
  } else {
    outer.set_result(child_value<H>(ic));
  }
}
}  // namespace detail

/// `asyncio.shield(aw)`: a future that follows `aw`'s outcome, but whose
/// cancellation does not reach `aw`: cancelling a task that awaits the
/// shield cancels only the shield; the inner task keeps running.
///
/// ```cpp
/// try {
///   co_await asyncio::shield(save_to_disk());  // survives our cancellation
/// } catch (const asyncio::CancelledError&) { ... }
/// ```
template <detail::Awaitable A>
auto shield(A&& aw) {
  auto inner = ensure_future(std::forward<A>(aw));
  using H = decltype(inner);
  using T = typename H::value_type;
  Future<T> outer = get_running_loop().create_future<T>();
  if (inner.done()) {
    // CPython returns `inner` itself; an outer already in the same state is equivalent.
    detail::shield_inner_done(inner, outer);
    return outer;
  }
  auto inner_id = detail::next_callback_id();
  detail::future_core(inner).add_callback(new detail::UserCallback(
      inner_id, [inner, outer]() mutable { detail::shield_inner_done(inner, outer); }));
  detail::future_core(outer).add_callback(
      new detail::UserCallback(detail::next_callback_id(), [inner, inner_id] {
        if (!inner.done()) detail::future_core(inner).remove_user_callback(inner_id);
      }));
  return outer;
}

// ---- as_completed ------------------------------------------------------------------

namespace detail {

/// as_completed's state [the closure of tasks.as_completed]: `done` plays the
/// role of its Queue, `getters` of that queue's waiting getters.
struct AsCompletedCore {
  AsCompletedCore() = default;
  AsCompletedCore(const AsCompletedCore&) = delete;
  AsCompletedCore& operator=(const AsCompletedCore&) = delete;
  ~AsCompletedCore() { timeout_handle.cancel(); }

  std::vector<FutureCore*> cores;
  std::vector<std::uint64_t> ids;
  std::vector<char> in_todo;
  std::size_t ntodo = 0;
  std::deque<std::ptrdiff_t> done;  // indices of done children; -1: the timeout's dummy
  std::deque<Waiter<void>*> getters;
  Handle timeout_handle;

  void on_completion(std::size_t i);  // _on_completion
  void on_timeout();                  // _on_timeout
  void wakeup_next();                 // Queue._wakeup_next(getters)
  void remove_getter(Waiter<void>* w) noexcept;
};

template <class H>
struct AsCompletedState : AsCompletedCore {
  std::vector<H> children;
};

/// Waits in as_completed's getter queue; leaves it however the wait ends.
struct AsCompletedGetter {
  explicit AsCompletedGetter(AsCompletedCore& s);
  ~AsCompletedGetter() { state.remove_getter(&waiter); }
  /// Queue.get's `except:` clause.
  void on_error();
  AsCompletedCore& state;
  Waiter<void> waiter;
};

/// `_wait_for_one()`.
template <class H>
Coro<typename HandleTraits<H>::value_type> as_completed_next(std::shared_ptr<AsCompletedState<H>> s) {
  while (s->done.empty()) {
    AsCompletedGetter getter(*s);
    std::exception_ptr error;
    try {
      co_await FutureAwaiter<void>{&getter.waiter};
    } catch (...) {
      error = std::current_exception();
    }
    if (error) {
      getter.on_error();
      std::rethrow_exception(error);
    }
  }
  std::ptrdiff_t i = s->done.front();
  s->done.pop_front();
  if (i < 0) throw TimeoutError();
  s->children[static_cast<std::size_t>(i)].result();  // f.result(): rethrows its exception
  if constexpr (!std::is_void_v<typename HandleTraits<H>::value_type>) {
    co_return child_value<H>(s->cores[static_cast<std::size_t>(i)]);
  }
}

void arm_as_completed_timeout(const std::shared_ptr<AsCompletedCore>& s, std::int64_t timeout_ns);

}  // namespace detail

/// What as_completed returns: an input range of `size()` coroutines; each,
/// awaited, returns the result of the next child to complete (or throws its
/// exception, or TimeoutError once the timeout has passed).
template <class H>
class AsCompleted {
 public:
  using value_type = Coro<typename detail::HandleTraits<H>::value_type>;
  class iterator {
   public:
    using value_type = AsCompleted::value_type;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const AsCompleted* owner, std::size_t i) : owner_(owner), i_(i) {}
    value_type operator*() const { return detail::as_completed_next<H>(owner_->state_); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    void operator++(int) { ++i_; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.i_ == b.i_; }

   private:
    const AsCompleted* owner_ = nullptr;
    std::size_t i_ = 0;
  };

  explicit AsCompleted(std::shared_ptr<detail::AsCompletedState<H>> s) : state_(std::move(s)) {}
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, size()); }
  std::size_t size() const noexcept { return state_->children.size(); }

 private:
  std::shared_ptr<detail::AsCompletedState<H>> state_;
};

namespace detail {
template <class Range>
auto as_completed_impl(Range&& aws, std::optional<std::int64_t> timeout_ns) {
  using Elem = std::ranges::range_reference_t<Range>;
  using H = future_handle_t<std::conditional_t<consumed_v<Elem>, std::remove_cvref_t<Elem>&&,
                                               const std::remove_cvref_t<Elem>&>>;
  auto s = std::make_shared<AsCompletedState<H>>();
  for (auto&& a : aws) {
    H h = [&] {
      if constexpr (consumed_v<Elem>) {
        return ensure_future(std::move(a));
      } else {
        return ensure_future(a);
      }
    }();
    FutureCore* c = &future_core(h);
    bool dup = false;  // todo is a set: each future once
    for (FutureCore* x : s->cores) dup = dup || x == c;
    if (dup) continue;
    s->children.push_back(std::move(h));
    s->cores.push_back(c);
  }
  std::size_t n = s->children.size();
  s->in_todo.assign(n, 1);
  s->ntodo = n;
  for (std::size_t i = 0; i < n; ++i) {
    auto id = next_callback_id();
    s->ids.push_back(id);
    s->cores[i]->add_callback(new UserCallback(id, [s, i] { s->on_completion(i); }));
  }
  if (n > 0 && timeout_ns) arm_as_completed_timeout(s, *timeout_ns);
  return AsCompleted<H>(std::move(s));
}
}  // namespace detail

/// `asyncio.as_completed(aws)` (3.12): iterate to get coroutines that return
/// the results in the order the awaitables complete.
///
/// ```cpp
/// for (auto next : asyncio::as_completed(std::move(coros))) {
///   int r = co_await std::move(next);   // the earliest result first
/// }
/// ```
template <std::ranges::input_range R>
  requires detail::Awaitable<std::ranges::range_reference_t<R>>
auto as_completed(R&& aws) {
  return detail::as_completed_impl(std::forward<R>(aws), std::nullopt);
}
/// With a timeout: once it passes, the remaining coroutines throw TimeoutError
/// (the awaitables keep running).
template <std::ranges::input_range R, class Rep, class Period>
  requires detail::Awaitable<std::ranges::range_reference_t<R>>
auto as_completed(R&& aws, std::chrono::duration<Rep, Period> timeout) {
  return detail::as_completed_impl(std::forward<R>(aws), detail::delay_to_ns(timeout));
}

}  // namespace asyncio
