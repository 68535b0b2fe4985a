#pragma once
/// \file detail/core.hpp
/// The scheduler's building blocks, shared by futures, tasks, the loop and the
/// primitives. Nothing here is public API; see events.hpp, futures.hpp,
/// tasks.hpp for the documented names.
///
/// The picture (CPython names in brackets):
///
/// - `Runnable`: anything the loop can run from its ready queue [Handle in
///   `loop._ready`]: a pointer to its kind's `RunnableOps` (run, drop), no
///   virtual call, no allocation. A task, a done callback node and a
///   call_soon handle are all Runnables.
/// - `FutureCore`: state, exception, cancel message and an intrusive list of
///   done callbacks [futures.Future]. When it completes, each callback node is
///   pushed on the ready queue, in registration order: callbacks run on the
///   next loop iteration, as `Future.__schedule_callbacks` does.
/// - `CoroPromise`: what every coroutine's promise holds whether it runs
///   inline or as a task: one word (the awaiting coroutine and three flags);
///   the typed part (coroutines.hpp) adds the result or exception. An inline
///   `co_await` needs nothing more. The coroutine's name is found from its
///   frame (a registry keyed by the frame's destroy function).
/// - `TaskCore`: the task state [tasks.Task], allocated from the frame pool by
///   `create_task` beside the coroutine frame it owns (TaskImpl<T>,
///   coroutines.hpp). A TaskCore is itself the done-callback node registered
///   on the future it waits for [`Task.__wakeup`]: a task waits on one future
///   at a time.
/// - `LoopCore`: the part of the event loop the hot path needs inline: the
///   ready queue, the current task, the tracing switch.
#include <atomic>
#include <coroutine>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/detail/big_buffer.hpp"
#include "asyncio/detail/frame_pool.hpp"
#include "asyncio/detail/ref.hpp"
#include "asyncio/exceptions.hpp"

namespace asyncio {

class EventLoop;

/// What the loop passes to its exception handler (the `context` dict of
/// `loop.call_exception_handler`): a message, and when there is one the
/// exception and a description of the task, future or handle involved.
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;
  std::string task;    ///< repr of the task or future ("<Task finished ...>"), or empty
  std::string handle;  ///< repr of the callback handle, or empty
};

namespace detail {

class Tracer;
class LoopCore;
class TaskCore;

struct Runnable;

/// What the loop does with one kind of ready-queue entry. Each kind (a task's
/// step, a call_soon handle, a done callback node of gather, TaskGroup, a
/// queue waiter, a user's done callback, ...) has one constant RunnableOps;
/// the entry points to it. Both `run` and `drop` must be given (there is no
/// default), so a new kind cannot forget what closing the loop does to it.
struct RunnableOps {
  using RunFn = void (*)(Runnable*);
  using DropFn = void (*)(Runnable*) noexcept;
  using TaskFn = TaskCore* (*)(Runnable*) noexcept;
  constexpr RunnableOps(RunFn run_fn, DropFn drop_fn, TaskFn task_fn = nullptr) noexcept
      : run(run_fn), drop(drop_fn), task(task_fn) {}
  /// Runs the entry, which has just left the ready queue.
  RunFn run;
  /// The entry will never run: its loop closes with it queued, or the future
  /// it was registered on goes away with it. Releases what it holds (a
  /// reference, its own memory); `drop_nothing` for an entry owned elsewhere.
  DropFn drop;
  /// For a task's step, the task (debug mode's slow-step report, the tracer);
  /// null for every other kind.
  TaskFn task;
};

/// A `RunnableOps::drop` for an entry that holds nothing of its own (a task's
/// step: the task is abandoned through the loop's task list; an awaiter's
/// node: it lives in its coroutine's frame).
inline void drop_nothing(Runnable*) noexcept {}

/// An entry of the ready queue.
///
/// A task's entry has no RunnableOps: its `ops_` word holds the address of
/// the task's outermost promise (8-aligned) with kTaskEntry in its low bits
/// (and kWatcherEntry while it carries a watcher's call, see ChildWatcher),
/// so that a task needs no separate pointer to its frame (8 bytes off every
/// task). Every other kind points to its RunnableOps.
struct Runnable {
  explicit constexpr Runnable(const RunnableOps& ops) noexcept : ops_(&ops) {}
  /// A task's entry (TaskCore): its promise's address | kTaskEntry.
  struct TaskWord {
    std::uintptr_t word;
  };
  explicit Runnable(TaskWord w) noexcept : ops_(reinterpret_cast<const RunnableOps*>(w.word)) {}
  static constexpr std::uintptr_t kTaskEntry = 1, kWatcherEntry = 2, kEntryBits = 3;
  std::uintptr_t entry_bits() const noexcept { return reinterpret_cast<std::uintptr_t>(ops_) & kEntryBits; }
  inline void run();
  inline void drop() noexcept;
  /// The task whose step this is, or null.
  inline TaskCore* as_task() noexcept;
  const RunnableOps* ops_;
  /// The link of the one list the entry is on: the ready queue, or (a
  /// DoneCallback) a future's callbacks. An entry is on one of them at most.
  Runnable* next_ = nullptr;
};

/// A node in a future's done-callback list; pushed on the ready queue when the
/// future completes.
struct DoneCallback : Runnable {
  using Runnable::Runnable;
  /// The next node of the future's list (registered nodes only).
  DoneCallback* next() const noexcept { return static_cast<DoneCallback*>(next_); }
};

/// FIFO of Runnables [`loop._ready`], linked through the entries themselves
/// (Runnable::next_): pushing never allocates nor fails, and a spike of a
/// million ready tasks costs no buffer (W1: 8 bytes per task). An entry is
/// in the queue once at most: a task is queued or waits on one future (never
/// both), a callback node leaves its future's list when it is scheduled.
class ReadyQueue {
 public:
  ReadyQueue() = default;
  ReadyQueue(const ReadyQueue&) = delete;
  ReadyQueue& operator=(const ReadyQueue&) = delete;

  void push(Runnable* r) noexcept {
    r->next_ = nullptr;
    (tail_ != nullptr ? tail_->next_ : head_) = r;
    tail_ = r;
    ++size_;
  }
  /// The first entry, unlinked; the queue is not empty.
  Runnable* pop() noexcept {
    Runnable* r = head_;
    head_ = r->next_;
    if (head_ == nullptr) tail_ = nullptr;
    r->next_ = nullptr;
    --size_;
    return r;
  }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return head_ == nullptr; }
  /// The last entry (null when empty); with next_, what was pushed after it.
  /// For the tracer.
  Runnable* back() const noexcept { return tail_; }
  Runnable* front() const noexcept { return head_; }

 private:
  Runnable* head_ = nullptr;
  Runnable* tail_ = nullptr;
  std::size_t size_ = 0;
};

/// The loop running on this thread (set by run_forever), or null.
inline constinit thread_local LoopCore* t_running_loop = nullptr;

/// Debug mode: record where coroutines are created (src/debug_origin.cpp).
/// Set while a loop in debug mode runs on this thread.
inline constinit thread_local bool t_record_origins = false;
/// How many creation records exist on this thread (frames check it when they go).
inline constinit thread_local std::size_t t_origin_count = 0;
struct CallSite;
class CoroPromise;
/// `where`: the coroutine's definition (await_site.hpp). Records are keyed by
/// the coroutine's promise (a task's is its outermost frame's).
void note_origin(const CoroPromise* p, CallSite where);
void forget_origin(const CoroPromise* p) noexcept;
/// Where `p` was created, for the reports: "at t.cpp:12 in task 'Task-1'
/// (main())" for a task, "in task 'Task-1' (main())" or "outside any task" for
/// a coroutine; empty when not recorded.
std::string origin_of(const CoroPromise* p);

/// Every loop alive in the process, by index: a future keeps its loop's
/// 16-bit index instead of a pointer (8 bytes off every future and task).
/// Slot 0 is "no loop". A loop's slot is cleared when the loop is destroyed
/// and slots are handed out in turn, so that a future outliving its loop
/// reads null (not another loop) for the next 65,534 loops made.
inline constexpr std::size_t kLoopSlots = std::size_t{1} << 16;
inline constinit std::atomic<LoopCore*> g_loop_slots[kLoopSlots] = {};
inline LoopCore* loop_at(std::uint16_t index) noexcept { return g_loop_slots[index].load(std::memory_order_relaxed); }
/// The index of `loop` (0 for null).
inline std::uint16_t loop_index_of(const LoopCore* loop) noexcept;

enum class FutureState : std::uint8_t { pending, cancelled, finished };

class FutureCore;

/// An owner told when each of its children completes, as gather's
/// `_done_callback` [`fut.add_done_callback(_done_callback)`]: registered with
/// FutureCore::add_watcher. On a pending task with no callback yet (W1's
/// gather of a million tasks) the registration needs no node: the task's own
/// ready-queue link, free once the task is done, carries the call on the next
/// iteration (24 bytes less per child). Elsewhere a WatcherNode does.
class ChildWatcher {
 public:
  /// `_done_callback(child)`, on the iteration after the child completed.
  virtual void on_child_done(FutureCore& child) = 0;
  /// The call will never come (the loop closes with it queued).
  virtual void on_child_dropped() noexcept = 0;

 protected:
  ~ChildWatcher() = default;
};

/// State and callbacks of a future, without the result value (see TypedFuture
/// in futures.hpp for the typed part).
///
/// FutureCore owns its state: its fields are private, and every transition
/// goes through the calls below, so that each invariant is kept in one place:
///
/// - `pending` → `finished` (finish(), finish(exc), set_exception_ptr) or
///   `cancelled` (cancel(), finish_cancelled()); done callbacks are scheduled
///   once, at that transition; after it the list is empty and a new callback
///   is scheduled at once (as in CPython);
/// - a done future stays done, except a waiter that is rearmed (rearm()) to
///   wait again, which requires that nothing is registered on it;
/// - `exception` is non-null only when finished with an exception;
/// - `log_traceback` (the exception was not retrieved) is set only by
///   finishing with an exception and cleared by retrieving it or cancel().
///
/// What is a task's only (started, must_cancel, the kept CancelledError, ...)
/// is TaskCore's.
class FutureCore {
 public:
  explicit FutureCore(LoopCore* loop) noexcept : loop_index_(loop_index_of(loop)) {}
  FutureCore(const FutureCore&) = delete;
  FutureCore& operator=(const FutureCore&) = delete;

  bool done() const noexcept { return state_ != FutureState::pending; }
  bool cancelled() const noexcept { return state_ == FutureState::cancelled; }
  FutureState state() const noexcept { return state_; }
  /// The loop the future belongs to; null once that loop is destroyed.
  LoopCore* loop() const noexcept { return loop_at(loop_index_); }

  /// Future.cancel(msg): if pending, becomes cancelled and schedules callbacks.
  /// Overridden by tasks, where cancel only requests.
  virtual bool cancel(std::string msg = {});

  /// Marks the future finished with an exception (the result is set by the
  /// typed part). Throws InvalidStateError when already done.
  void set_exception_ptr(std::exception_ptr e);
  /// Throws InvalidStateError unless pending (before setting a result).
  void check_pending(const char* what) const {
    if (state_ != FutureState::pending) [[unlikely]] throw_not_pending(what);
  }

  /// Throws what `result()` throws when not finished with a value: InvalidStateError
  /// when pending, CancelledError when cancelled, the exception when failed.
  /// Marks the exception retrieved.
  void rethrow_if_not_value() {
    if (state_ == FutureState::finished && !has_exc_) [[likely]] return;
    rethrow_slow();
  }
  /// `exception()`: null when finished with a value; throws like result() when
  /// pending or cancelled.
  std::exception_ptr exception();

  /// Registers a node; if already done, schedules it at once. Then, when the
  /// future's loop is closed or gone: RuntimeError("Event loop is closed")
  /// (as `loop.call_soon` raises), and a user callback node is freed.
  inline void add_callback(DoneCallback* cb);
  /// Unlinks a node if still registered; returns whether it was.
  bool remove_callback(DoneCallback* cb) noexcept;
  /// Registers `w` (the future is pending): as the task's own tag when this is
  /// a task with no callback, else as a WatcherNode (see ChildWatcher).
  void add_watcher(ChildWatcher* w);
  /// Unregisters `w` if it was registered and has not been scheduled.
  void remove_watcher(ChildWatcher* w) noexcept;
  /// Removes every user callback (added through add_done_callback) whose id matches.
  std::size_t remove_user_callback(std::uint64_t id) noexcept;
  /// Removes every user callback for which `pred(UserCallback&)` is true; returns how many.
  template <class Pred>
  std::size_t remove_user_callbacks_if(Pred pred);

  /// The message given to cancel() (empty when none).
  const std::string& cancel_message() const noexcept;
  /// `_make_cancelled_error()`: the CancelledError that result(), exception()
  /// and awaiting a cancelled future raise, with the cancel message (none:
  /// `CancelledError()`). A task overrides it (its kept `_cancelled_exc`).
  virtual CancelledError make_cancelled_error() { return cancel_request_error(); }
  /// A CancelledError with the pending cancel message (none: `CancelledError()`).
  CancelledError cancel_request_error() const {
    const Rare* r = rare_if_any();
    return r != nullptr && r->cancel_msg ? CancelledError(*r->cancel_msg) : CancelledError();
  }
  /// `fut._cancel_message` as gather's return_exceptions path reads it (a task
  /// whose coroutine let CancelledError out overrides it: None, so gather
  /// builds `CancelledError('')`).
  virtual std::string gather_cancel_message() const { return cancel_message(); }

  /// True when the exception has not been retrieved (reported when the future
  /// goes away, as asyncio's `_log_traceback`).
  bool exception_unretrieved() const noexcept { return log_traceback_; }
  /// Nothing for the destructor to release: no callback registered, no
  /// exception, no cancel message or name (a waiter forgotten after a plain
  /// wake-up, detail/waiters.hpp).
  bool holds_nothing() const noexcept { return cb_tail_ == nullptr && !has_rare_; }
  /// The exception, without marking it retrieved (null when none).
  std::exception_ptr raw_exception() const noexcept { return has_exc_ ? rare_if_any()->exc : nullptr; }

  /// `<Future pending>`-style description (result printing is the typed part's).
  std::string state_name() const;
  /// True for a task (false for a plain future or an inline coroutine's state).
  virtual bool is_task_core() const noexcept { return false; }

 protected:
  ~FutureCore() {
    if (cb_tail_ != nullptr) [[unlikely]] free_callbacks();
    if (has_rare_) [[unlikely]] rare_erase();
  }

  // ---- transitions, for the typed part and the subclasses ----
  /// Binds a future made without a loop (a waiter, a task) to `loop`, before
  /// anything is registered on it.
  void bind_loop(LoopCore* loop) noexcept { loop_index_ = loop_index_of(loop); }
  /// pending → finished with a value (stored by the typed part before).
  void finish() noexcept {
    state_ = FutureState::finished;
    schedule_callbacks();
  }
  /// pending → finished with `e` (non-null), not yet retrieved.
  /// The exception goes to the Rare block (allocated here if needed: a
  /// failure is rare, and every future is 8 bytes smaller for it).
  void finish(std::exception_ptr e) noexcept {
    rare().exc = std::move(e);
    has_exc_ = true;
    state_ = FutureState::finished;
    log_traceback_ = true;
    schedule_callbacks();
  }
  /// pending → cancelled, keeping the cancel message set so far; drops a
  /// stashed exception (a cancelled future has none).
  void finish_cancelled() noexcept {
    drop_exception();
    state_ = FutureState::cancelled;
    schedule_callbacks();
  }
  /// done → pending, to wait again (a primitive's waiter in a `while` loop).
  /// Nothing may be registered on it (the waiting task's node ran already).
  void rearm() noexcept {
    state_ = FutureState::pending;
    drop_exception();
    log_traceback_ = false;
  }
  /// The exception was retrieved (result(), exception(), or cancel()).
  void mark_retrieved() noexcept { log_traceback_ = false; }

  void set_cancel_message(std::string msg);
  /// Sets the cancel message from a CancelledError a coroutine let out: its
  /// message, or none when it had no argument.
  void set_cancel_message_from(const CancelledError& e);
  /// Moves the cancel message out (none: nullopt).
  std::optional<std::string> take_cancel_message() noexcept {
    Rare* r = rare_if_any();
    return r != nullptr ? std::exchange(r->cancel_msg, std::nullopt) : std::nullopt;
  }
  inline void schedule_callbacks() noexcept;

  /// What few futures use, allocated on first use so that every future and
  /// every coroutine frame carries one pointer for both: the cancel message
  /// (`cancel(msg)`, a CancelledError with arguments) and a task's given name
  /// (`set_name`, `create_task(..., name)`; TaskCore's).
  struct Rare {
    std::optional<std::string> cancel_msg;
    std::optional<std::string> task_name;
    std::exception_ptr exc;  // valid when has_exc_
    std::uint32_t task_cancels = 0;  // a task's num_cancels_requested (TaskCore)
  };
  /// The Rare block is kept aside, in a process-wide table keyed by the
  /// future's address (a flag says whether there is one): 8 bytes off every
  /// future and task, for a table lookup under a lock on the rare paths
  /// (src/futures.cpp).
  Rare& rare() { return has_rare_ ? *rare_lookup() : rare_create(); }
  Rare* rare_if_any() const noexcept { return has_rare_ ? rare_lookup() : nullptr; }

  /// cb_tail_ holds a ChildWatcher (tagged) instead of a list: a task whose
  /// only registration is a watcher's (add_watcher). It stays there from the
  /// task's completion until the call runs (take_watcher).
  static constexpr std::uintptr_t kWatcherTag = 1;
  bool has_watcher_tag() const noexcept { return (reinterpret_cast<std::uintptr_t>(cb_tail_) & kWatcherTag) != 0; }
  ChildWatcher* take_watcher() noexcept {
    auto* w = reinterpret_cast<ChildWatcher*>(reinterpret_cast<std::uintptr_t>(cb_tail_) & ~kWatcherTag);
    cb_tail_ = nullptr;
    return w;
  }

 private:
  /// add_callback on a task holding a watcher's tag: the watcher gets a node
  /// first, so that callbacks still run in registration order.
  [[gnu::noinline]] void add_callback_after_watcher(DoneCallback* cb);
  [[noreturn]] void rethrow_slow();
  [[noreturn]] void throw_not_pending(const char* what) const;
  void free_callbacks() noexcept;
  struct RareTable;
  static RareTable& rare_table() noexcept;
  Rare* rare_lookup() const noexcept;
  Rare& rare_create();
  void rare_erase() noexcept;
  void drop_exception() noexcept {
    if (has_exc_) [[unlikely]] {
      rare_lookup()->exc = nullptr;
      has_exc_ = false;
    }
  }
  void schedule_done_callback(DoneCallback* cb);
  /// Unlinks (in order) every registered node for which `pred(node)` is true;
  /// `pred` may free the node it accepts. Returns how many were unlinked.
  template <class Pred>
  std::size_t unlink_callbacks_if(Pred pred);

  // The done callbacks, a circular list kept by its last node (one pointer
  // instead of head and tail): cb_tail_->next_ is the first; null when none.
  DoneCallback* cb_tail_ = nullptr;
  FutureState state_ = FutureState::pending;
  bool log_traceback_ : 1 = false;
  bool has_exc_ : 1 = false;  // finished with an exception, kept in the Rare block's exc
  bool has_rare_ : 1 = false;  // the Rare block exists (rare())
  std::uint16_t loop_index_;  // g_loop_slots

 protected:
  /// A word in what would be padding, for a subclass's own use (TaskCore's
  /// slot in its loop's table and its flags). FutureCore never reads it.
  std::uint32_t sub_bits_ = 0;
};

/// A done callback given by the user, holding a std::function.
struct UserCallback final : DoneCallback, PooledCompact<UserCallback> {
  UserCallback(std::uint64_t id, std::function<void()> fn)
      : DoneCallback(kOps), id_(id), fn_(std::move(fn)) {}
  static const RunnableOps kOps;  // runs fn_ then frees itself; drop frees it
  static UserCallback* from(Runnable* r) noexcept {
    return r->ops_ == &kOps ? static_cast<UserCallback*>(static_cast<DoneCallback*>(r)) : nullptr;
  }
  std::uint64_t id_;
  std::function<void()> fn_;
};
std::uint64_t next_callback_id() noexcept;

/// A watcher's registration where no task link can carry it (a child that is
/// a plain future, or a task with other callbacks): a node of its own, freed
/// when it runs or is dropped.
struct WatcherNode final : DoneCallback, PooledCompact<WatcherNode> {
  WatcherNode(ChildWatcher* w, FutureCore* c) noexcept : DoneCallback(kOps), watcher(w), child(c) {}
  static const RunnableOps kOps;
  static WatcherNode* from(Runnable* r) noexcept {
    return r->ops_ == &kOps ? static_cast<WatcherNode*>(static_cast<DoneCallback*>(r)) : nullptr;
  }
  ChildWatcher* watcher;
  FutureCore* child;
};

template <class Pred>
std::size_t FutureCore::unlink_callbacks_if(Pred pred) {
  if (cb_tail_ == nullptr || has_watcher_tag()) return 0;  // a watcher's tag is not a node
  DoneCallback* cur = cb_tail_->next();
  cb_tail_->next_ = nullptr;  // a straight list while it is walked
  DoneCallback* head = nullptr;
  DoneCallback* tail = nullptr;
  std::size_t removed = 0;
  while (cur != nullptr) {
    DoneCallback* next = cur->next();
    if (pred(cur)) {
      ++removed;
    } else {
      if (tail != nullptr) {
        tail->next_ = cur;
      } else {
        head = cur;
      }
      tail = cur;
    }
    cur = next;
  }
  if (tail != nullptr) tail->next_ = head;
  cb_tail_ = tail;
  return removed;
}

template <class Pred>
std::size_t FutureCore::remove_user_callbacks_if(Pred pred) {
  return unlink_callbacks_if([&pred](DoneCallback* cur) {
    UserCallback* user = UserCallback::from(cur);
    if (user == nullptr || !pred(*user)) return false;
    delete user;
    return true;
  });
}

/// Calls a done callback with the future/task handle if it takes one, else with nothing.
template <class F, class Self>
void invoke_done_callback(F& fn, Self& self) {
  if constexpr (std::is_invocable_v<F&, Self&>) {
    fn(self);
  } else {
    fn();
  }
}

/// What a UserCallback of add_done_callback(fn) holds: the handle to pass
/// and the user's callable, kept apart so that remove_done_callback(fn) can
/// find the callable again.
template <class Self, class F>
struct DoneCallbackFn {
  Self self;
  F fn;
  void operator()() { invoke_done_callback(fn, self); }
};
template <class Self, class F>
UserCallback* make_done_callback(std::uint64_t id, Self self, F fn) {
  return new UserCallback(id, DoneCallbackFn<Self, F>{std::move(self), std::move(fn)});
}
/// `fut.remove_done_callback(fn)`: removes every registration of a callable
/// equal to `fn` made through a handle of one of the types `Selves`.
template <class F, class... Selves>
std::size_t remove_done_callbacks_equal(FutureCore& fut, const F& fn) {
  return fut.remove_user_callbacks_if([&fn](UserCallback& cb) {
    auto matches = [&]<class S>() {
      const auto* stored = cb.fn_.template target<DoneCallbackFn<S, F>>();
      return stored != nullptr && stored->fn == fn;
    };
    return (matches.template operator()<Selves>() || ...);
  });
}

/// What the promise of every coroutine holds, inline or task (the typed part,
/// Promise<T> in coroutines.hpp, adds `union { T value; exception_ptr exc; }`):
/// one word, the address of the awaiting coroutine's frame (for a task's
/// outermost coroutine, the task's next resume while it is suspended, and null
/// while it runs: its end finishes the running task) with three flags in its
/// low bits: every coroutine frame is at least 8-aligned (it starts with two
/// function pointers), even one whose allocation the compiler elided.
///
/// The coroutine's name is not stored: it is found from the frame's destroy
/// function, which is one per coroutine function (see coroutine_name_of),
/// so that every frame is 8 bytes smaller (W1's frame fits 64 bytes, not 80).
/// The coroutine name registry: a coroutine function's frames all have the
/// same destroy function (the key), registered with the function's name when
/// a frame is made. register_coroutine_name is the hot path (a look in a
/// per-thread direct-mapped cache, filled from a global table on a miss);
/// coroutine_name_of is for reprs and reports.
struct CoroNameSlot {
  const void* key;
  const char* name;
};
inline constexpr std::size_t kCoroNameSlots = 256;
inline constinit thread_local CoroNameSlot t_coro_names[kCoroNameSlots] = {};
inline CoroNameSlot& coro_name_slot(const void* key) noexcept {
  return t_coro_names[(reinterpret_cast<std::uintptr_t>(key) >> 4) % kCoroNameSlots];
}
/// A miss in the cache: records (key, name) in the global table and the slot.
void register_coroutine_name_slow(const void* key, const char* name) noexcept;
inline void register_coroutine_name(const void* key, const char* name) noexcept {
  if (coro_name_slot(key).key != key) [[unlikely]] register_coroutine_name_slow(key, name);
}
/// The name registered for `key` ("<coroutine>" when none was).
const char* coroutine_name_of(const void* key) noexcept;

class CoroPromise {
 public:
  CoroPromise() noexcept = default;
  CoroPromise(const CoroPromise&) = delete;
  CoroPromise& operator=(const CoroPromise&) = delete;

  /// The coroutine function's name (`coro.__qualname__`), as registered when
  /// the coroutine was created.
  const char* name() const noexcept { return coroutine_name_of(frame_key()); }
  /// The frame's destroy function, which names the coroutine function: the
  /// second word of the frame (g++ and clang lay a frame out as resume
  /// function, destroy function, promise; Promise<T> checks that the promise
  /// is 16 bytes in).
  const void* frame_key() const noexcept {
    return reinterpret_cast<const void* const*>(reinterpret_cast<const char*>(this) - kPromiseOffset)[1];
  }
  /// Where the promise lies in the frame.
  static constexpr std::size_t kPromiseOffset = 2 * sizeof(void*);
  /// Handed to co_await or create_task.
  bool was_awaited() const noexcept { return (word_ & kAwaited) != 0; }
  /// Throws RuntimeError("cannot reuse already awaited coroutine") the second time.
  void mark_awaited() {
    if (was_awaited()) [[unlikely]] throw_reused();
    word_ |= kAwaited;
  }
  /// An inline await: `awaiting` resumes when this coroutine ends.
  void set_continuation(std::coroutine_handle<> awaiting) noexcept {
    auto a = reinterpret_cast<std::uintptr_t>(awaiting.address());
    if ((a & kFlags) != 0) [[unlikely]] misaligned(awaiting.address());
    word_ = a | (word_ & kFlags);
  }
  /// The awaiting coroutine; null for a task's outermost coroutine (or one
  /// not awaited yet).
  std::coroutine_handle<> continuation() const noexcept {
    return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(word_ & ~kFlags));
  }
  /// A task's outermost coroutine: its task's next resume (TaskCore). The
  /// word holds none while the task runs (take_resume_point cleared it), and
  /// `h`, the frame of one of our coroutines, is 8-aligned (no check: the
  /// hot path of every suspension).
  void set_resume_point(std::coroutine_handle<> h) noexcept {
    word_ |= reinterpret_cast<std::uintptr_t>(h.address());
  }
  /// continuation(), cleared (a task's step, about to resume it).
  std::coroutine_handle<> take_resume_point() noexcept {
    std::coroutine_handle<> c = continuation();
    word_ &= kFlags;
    return c;
  }
  bool has_value() const noexcept { return (word_ & kHasValue) != 0; }
  bool has_exception() const noexcept { return (word_ & kHasException) != 0; }

 protected:
  ~CoroPromise() = default;
  static constexpr std::uintptr_t kAwaited = 1, kHasValue = 2, kHasException = 4;
  static constexpr std::uintptr_t kFlags = 7;
  void set_flag(std::uintptr_t f, bool on) noexcept { word_ = on ? (word_ | f) : (word_ & ~f); }

 private:
  [[noreturn]] static void misaligned(const void* p) noexcept;
  [[noreturn]] static void throw_reused();

  std::uintptr_t word_ = 0;
};

/// Task state [tasks.Task], allocated by create_task beside the coroutine
/// frame it owns (TaskImpl<T> in coroutines.hpp reads the result from the
/// frame's promise).
///
/// Invariants (CPython's Task): a pending task is either scheduled in the ready
/// queue (to start, after sleep(0), or woken by its future) or registered as
/// the done callback of exactly one future, `fut_waiter_`. While pending, the
/// loop holds one reference and lists the task for all_tasks(). The frame
/// lives as long as the task: the last reference destroys both.
///
/// 56 bytes (W1 makes a million): FutureCore's virtual table pointer, its
/// callbacks and its word (state, flags, loop index, and here the task's slot
/// in its loop's table and its flags); the ready-queue entry (the tagged
/// promise address and the link); the awaited future; the id and references.
/// The rest (name, cancel message and count, exception) is in the Rare block.
class TaskCore : public FutureCore, public DoneCallback {
 public:
  /// A task for the coroutine whose outermost frame is `frame` (promise `promise`).
  TaskCore(CoroPromise& promise, std::coroutine_handle<> frame) noexcept
      : FutureCore(nullptr), DoneCallback(TaskWord{reinterpret_cast<std::uintptr_t>(&promise) | kTaskEntry}) {
    sub_bits_ = kNoSlot;
    ++t_live_frames;  // a leaked task is a leaked frame for expect_no_frames
    promise.set_resume_point(frame);  // the first step resumes the outermost frame
  }

  // ---- task API (see Task<T> in tasks.hpp) ----
  bool cancel(std::string msg = {}) override;
  /// `num_cancels_requested`, kept in the Rare block (cancelling is rare:
  /// 8 bytes off every task).
  int cancelling() const noexcept {
    const Rare* r = rare_if_any();
    return r != nullptr ? static_cast<int>(r->task_cancels) : 0;
  }
  int uncancel() noexcept;
  std::string get_name() const;
  void set_name(std::string name);
  const char* coro_name() const noexcept { return promise().name(); }
  /// The promise of the task's outermost coroutine frame (kept in the entry's word).
  CoroPromise& promise() const noexcept {
    return *reinterpret_cast<CoroPromise*>(reinterpret_cast<std::uintptr_t>(ops_) & ~kEntryBits);
  }
  std::uint64_t id() const noexcept { return id_; }
  /// A task whose first step has run.
  bool started() const noexcept { return flag(kStarted); }
  bool is_task_core() const noexcept override { return true; }
  /// `_make_cancelled_error()`: a cancelled task keeps the CancelledError its
  /// coroutine let out (`_cancelled_exc`) for one retrieval only: the first
  /// call gets its message, later calls `CancelledError()`, as CPython's Task
  /// (whose `_cancel_message` is cleared by `super().cancel()`).
  CancelledError make_cancelled_error() override;
  /// None (so gather builds `CancelledError('')`) for a task whose coroutine
  /// let CancelledError out; else the cancel message.
  std::string gather_cancel_message() const override {
    return flag(kCancelledExc) ? std::string() : cancel_message();
  }

  // ---- references (single-threaded) ----
  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) last_release();
  }

  // ---- scheduling ----
  /// Binds the task to `loop`: named, listed, scheduled.
  void start_task(LoopCore& loop, std::string_view name);
  /// The step: resume the coroutine where it suspended [Task.__step].
  static void step_entry(Runnable* r);
  /// The same, called directly (a queue's wake-up node runs its task's step).
  /// The common path (started or starting, not cancelled before its first
  /// step, untraced, still pending after the resume) is straight-line; the
  /// rest is out of line (step_unusual, step_done).
  void step();
  /// The task's entry (Runnable::run without kWatcherEntry) runs step_entry;
  /// dropped, nothing (a pending task is abandoned through the loop's task
  /// list when the loop closes).
  /// The task is done and a watcher's tag is its only registration: its own
  /// link goes on the ready queue marked kWatcherEntry: run_watcher tells the
  /// watcher (drop_watcher, when the loop closes first, drops the call), and
  /// the link is the step's again.
  inline void schedule_watcher() noexcept;
  static void run_watcher(Runnable* r);
  static void drop_watcher(Runnable* r) noexcept;
  /// Where the next step resumes; set by the awaiter that suspends the task,
  /// as its last act (once nothing can throw: the task suspends for sure).
  /// Kept in the word of the outermost frame's promise, which holds no
  /// awaiting coroutine (8 bytes off every task): set while the task is
  /// suspended, null while it runs (so that the outermost coroutine's end
  /// finishes the task).
  void set_resume_point(std::coroutine_handle<> h) noexcept { promise().set_resume_point(h); }
  /// The next resume, cleared: the step is about to resume it.
  std::coroutine_handle<> take_resume_point() noexcept { return promise().take_resume_point(); }
  /// Called by an awaiter when the task suspends on `fut`.
  void wait_on(FutureCore& fut) {
    fut_waiter_ = &fut;
    fut.add_callback(this);
    if (flag(kMustCancel)) [[unlikely]] pass_cancel(fut);
  }
  /// As wait_on(fut), but `wakeup` is registered on `fut` instead of the task
  /// itself: when fut completes, `wakeup` runs in the slot where the task's step
  /// would have run, and decides whether to run the step (`task.step()`) or
  /// to wait again. Queue.get/put use it to re-check their `while` condition
  /// without resuming the coroutine (CPython's `while self.empty(): await getter`).
  void wait_on(FutureCore& fut, DoneCallback& wakeup) {
    fut_waiter_ = &fut;
    fut.add_callback(&wakeup);
    if (flag(kMustCancel)) [[unlikely]] pass_cancel(fut);
  }
  /// True when a cancel() could not be passed to the awaited future (it was
  /// already done) and will be thrown at the next resume [Task._must_cancel].
  bool cancel_pending() const noexcept { return flag(kMustCancel); }
  /// Called by an awaiter resuming after a suspension: a cancel() that could
  /// not be passed to the awaited future is thrown here [Task.__step's
  /// `_must_cancel`].
  void throw_if_cancel_requested() {
    if (flag(kMustCancel)) [[unlikely]] throw_cancel();
  }
  /// The same, for an awaiter that waited on `awaited`: when `awaited` ended
  /// cancelled, its own CancelledError is the one the task sees (the awaiter
  /// raises it next, through result()), and the pending request is dropped.
  /// Task.__step: `if self._must_cancel: if not isinstance(exc, CancelledError):
  /// exc = self._make_cancelled_error()`. So `t.cancel("a"); t.cancel("b")`
  /// while t waits raises CancelledError('a') in t, as in CPython.
  void throw_if_cancel_requested(const FutureCore& awaited) {
    if (flag(kMustCancel)) [[unlikely]] {
      if (awaited.cancelled()) {
        set_flag(kMustCancel, false);
        return;
      }
      throw_cancel();
    }
  }
  FutureCore* fut_waiter() const noexcept { return fut_waiter_; }
  /// Where the next step resumes: the innermost suspended frame (the
  /// outermost before the first step); null while the task runs or once done.
  std::coroutine_handle<> continuation() const noexcept { return promise().continuation(); }

  /// At the coroutine's final suspend: completes the task with the exception
  /// the coroutine let out (null: its value, kept in the promise).
  void finish_task(std::exception_ptr exc) noexcept;

  /// At loop close, for a task that never finished: detaches it from the
  /// future it waits on and from the loop, reports "Task was destroyed but it
  /// is pending!", and drops the loop's reference.
  void abandon_pending() noexcept;
  /// Prints `result=...` (or nothing) for reprs.
  virtual void print_result(std::ostream& os) const = 0;

  /// Where the task is in its loop's table of pending tasks (LoopCore::tasks),
  /// kNoSlot when not in it.
  std::uint32_t task_slot() const noexcept { return sub_bits_ & kSlotMask; }
  void set_task_slot(std::uint32_t slot) noexcept { sub_bits_ = (sub_bits_ & ~kSlotMask) | slot; }
  static constexpr std::uint32_t kSlotMask = (1u << 29) - 1;
  static constexpr std::uint32_t kNoSlot = kSlotMask;

 protected:
  ~TaskCore() { --t_live_frames; }
  /// Destroys the coroutine frame, then this task (the last reference went).
  virtual void destroy_frame_and_task() noexcept = 0;
  /// Drops the stored result (a task that ends cancelled keeps none).
  virtual void discard_result() noexcept = 0;

 private:
  /// The step of a task that is done (a stale wake-up: cannot happen; be
  /// safe) or cancelled before its first step.
  [[gnu::noinline]] void step_unusual();
  /// After the step that completed the task: the tracer's record, then the
  /// loop lets go of the task.
  [[gnu::noinline]] void step_done();
  /// wait_on's rare case: a cancel() that could not be passed on earlier goes
  /// to `fut` now [Task.__step: `if self._must_cancel: if
  /// self._fut_waiter.cancel(msg): self._must_cancel = False`].
  [[gnu::noinline]] void pass_cancel(FutureCore& fut);
  void last_release() noexcept;
  [[noreturn]] void throw_cancel();

  // sub_bits_ (FutureCore's spare word): the task's slot in its loop's table
  // (29 bits) and its flags.
  static constexpr std::uint32_t kStarted = 1u << 29;       // first step ran
  static constexpr std::uint32_t kMustCancel = 1u << 30;    // throw CancelledError at the next resume
  static constexpr std::uint32_t kCancelledExc = 1u << 31;  // the cancel message is the kept `_cancelled_exc`
  bool flag(std::uint32_t f) const noexcept { return (sub_bits_ & f) != 0; }
  void set_flag(std::uint32_t f, bool on) noexcept { sub_bits_ = on ? (sub_bits_ | f) : (sub_bits_ & ~f); }

  FutureCore* fut_waiter_ = nullptr;
  std::uint32_t id_ = 0;                  // "Task-N" (wraps after 2^32 tasks)
  std::uint32_t refs_ = 0;
};

/// The current task, or throws RuntimeError (awaiting a future outside a task).
TaskCore& current_task_for_await();

/// The loop's part the hot path uses inline (the rest is EventLoop, events.hpp).
class LoopCore {
 public:
  /// Takes a slot of g_loop_slots (RuntimeError when 65,535 loops are alive).
  LoopCore();
  LoopCore(const LoopCore&) = delete;
  LoopCore& operator=(const LoopCore&) = delete;

  void push_ready(Runnable* r) noexcept { ready_.push(r); }
  TaskCore* current_task() const noexcept { return current_task_; }
  /// A number no other loop of this process has: tells loops apart even when
  /// a new one is allocated where a destroyed one was (primitives bound to a loop).
  std::uint64_t serial() const noexcept { return serial_; }
  /// Its slot in g_loop_slots (what its futures keep).
  std::uint16_t index() const noexcept { return index_; }
  bool debug() const noexcept { return debug_; }
  Tracer* tracer() const noexcept { return tracer_; }

  virtual void call_exception_handler(const ExceptionContext& context) = 0;
  /// True once close() began: nothing may be scheduled any more.
  virtual bool is_closed() const noexcept = 0;
  /// Loop time in nanoseconds (virtual or monotonic).
  virtual std::int64_t now_ns() const = 0;

  // Pending tasks (all_tasks): a table, each task knowing its slot, 8 bytes
  // per task. A task leaving it leaves a hole, put on a list of free slots
  // threaded through the holes (no other task is touched: W1's million tasks
  // finishing would each touch a far one); the table is compacted when it is
  // mostly holes, and given back when empty.
  /// Lists `t` (RuntimeError past 2^29 - 1 pending tasks).
  void link_task(TaskCore* t);
  void unlink_task(TaskCore* t) noexcept;
  /// The pending tasks in creation order (all_tasks, the graph, shutdown).
  std::vector<TaskCore*> tasks_in_creation_order() const;
  std::size_t task_count() const noexcept { return live_tasks_; }

 protected:
  ~LoopCore();  // gives the slot back
  friend class TaskCore;
  ReadyQueue ready_;
  TaskCore* current_task_ = nullptr;
  Tracer* tracer_ = nullptr;
  // A slot holds a task, or (low bit set) the next free slot's index << 1.
  std::vector<TaskCore*> tasks_;
  std::size_t live_tasks_ = 0;
  std::size_t free_slot_ = kNoFreeSlot;
  static constexpr std::size_t kNoFreeSlot = ~std::size_t{0} >> 1;  // encodes as ~0 (free_slot_entry)
  void compact_tasks() noexcept;
  bool debug_ = false;

 private:
  static std::uint64_t next_serial() noexcept {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  std::uint64_t serial_ = next_serial();
  std::uint16_t index_;
};

inline std::uint16_t loop_index_of(const LoopCore* loop) noexcept { return loop != nullptr ? loop->index() : 0; }

inline void TaskCore::schedule_watcher() noexcept {
  ops_ = reinterpret_cast<const RunnableOps*>(reinterpret_cast<std::uintptr_t>(ops_) | kWatcherEntry);
  loop()->push_ready(this);
}

inline void Runnable::run() {
  if (entry_bits() == kTaskEntry) [[likely]] {
    TaskCore::step_entry(this);
  } else if (entry_bits() != 0) {
    TaskCore::run_watcher(this);
  } else {
    ops_->run(this);
  }
}
inline void Runnable::drop() noexcept {
  if (entry_bits() == 0) {
    ops_->drop(this);
  } else if (entry_bits() != kTaskEntry) {
    TaskCore::drop_watcher(this);
  }  // a task's step holds nothing (the task is abandoned through the loop's task list)
}
inline TaskCore* Runnable::as_task() noexcept {
  if (entry_bits() == kTaskEntry) return static_cast<TaskCore*>(static_cast<DoneCallback*>(this));
  return entry_bits() == 0 && ops_->task != nullptr ? ops_->task(this) : nullptr;
}

// FutureCore's hot paths, inline (they need LoopCore).
inline void FutureCore::add_callback(DoneCallback* cb) {
  if (state_ != FutureState::pending) {
    schedule_done_callback(cb);
    return;
  }
  if (cb_tail_ == nullptr) {
    cb->next_ = cb;
  } else if (has_watcher_tag()) [[unlikely]] {
    add_callback_after_watcher(cb);
    return;
  } else {
    cb->next_ = cb_tail_->next_;
    cb_tail_->next_ = cb;
  }
  cb_tail_ = cb;
}

inline void FutureCore::schedule_callbacks() noexcept {
  DoneCallback* last = cb_tail_;
  if (last == nullptr) return;
  if (has_watcher_tag()) [[unlikely]] {  // a task done: its own link carries the watcher's call
    static_cast<TaskCore*>(this)->schedule_watcher();
    return;
  }
  cb_tail_ = nullptr;
  LoopCore* loop = this->loop();
  DoneCallback* cb = last->next();
  for (;;) {
    DoneCallback* next = cb->next();
    loop->push_ready(cb);  // relinks cb in the ready queue
    if (cb == last) break;
    cb = next;
  }
}

/// The running loop, or throws RuntimeError("no running event loop").
LoopCore& running_loop_core();
/// True while `loop` exists and is not closed (any thread's loops; a mutex: slow paths only).
bool loop_is_open(const LoopCore* loop) noexcept;

/// Passes `context` to `loop`'s exception handler if that loop still exists
/// on this thread, else prints it as the default handler does.
void report(LoopCore* loop, const ExceptionContext& context) noexcept;
/// `<Task pending name='Task-1' coro=<main()>>`.
std::string task_repr(const TaskCore& t);

}  // namespace detail
}  // namespace asyncio
