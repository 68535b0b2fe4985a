#pragma once
/// \file detail/waiters.hpp
/// What the synchronisation primitives (locks.hpp) and queues (queues.hpp)
/// share: a waiter future that lives in the waiting coroutine's frame, and the
/// primitive's FIFO of them. Nothing here is public API.
///
/// CPython's primitives keep `self._waiters`, a deque of futures: a waiting
/// task creates a future, appends it, awaits it, and removes it in a `finally`.
/// Here the future is a `WaitEntry` embedded in the awaiter, i.e. in the
/// waiting coroutine's frame (no allocation), and the deque is a `WaitList`,
/// an intrusive doubly-linked FIFO, so that removing a cancelled waiter from the
/// middle costs O(1).
///
/// Lifetime rules:
/// - an entry unlinks itself when it is destroyed (a frame destroyed while
///   suspended, at loop close);
/// - a list destroyed while entries are still linked (a primitive that dies
///   before the tasks waiting on it) *orphans* them: each is unlinked, marked
///   orphaned and, if still pending, completed with RuntimeError("<owner>
///   destroyed while a task was waiting on it"). The awaiter checks
///   `orphaned()` before touching its primitive again, so this misuse gives the
///   waiting task an exception instead of undefined behaviour.
#include <atomic>
#include <cassert>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <typeinfo>

#include "asyncio/futures.hpp"

namespace asyncio::detail {

class WaitList;

/// A waiter: a future in the waiting coroutine's frame, linked in a WaitList.
class WaitEntry final : public TypedFuture<void> {
 public:
  WaitEntry() noexcept : TypedFuture<void>(nullptr) {}
  WaitEntry(const WaitEntry&) = delete;
  WaitEntry& operator=(const WaitEntry&) = delete;
  inline ~WaitEntry();

  bool linked() const noexcept { return list_ != nullptr; }
  bool orphaned() const noexcept { return orphaned_; }
  /// Passed by its list's wake-up cursor (woken, or skipped as done): no
  /// longer counted as waiting (WaitList::waiting()).
  bool woken() const noexcept { return woken_; }
  /// Back to pending, to wait again (Queue's `while` loop).
  using FutureCore::rearm;
  /// Binds the future to `loop` (before anyone may complete it).
  void bind(LoopCore* loop) noexcept { bind_loop(loop); }

 private:
  friend class WaitList;
  WaitEntry* prev_ = nullptr;
  WaitEntry* next_ = nullptr;
  WaitList* list_ = nullptr;
  bool orphaned_ = false;
  bool woken_ = false;
  /// pending → finished, for the list's wake-up (already known pending).
  void wake() noexcept { finish(); }
};

/// Prints the primitive `p` points to (a `P`) with its operator<<.
template <class P>
void print_as(std::ostream& os, const void* p) {
  os << *static_cast<const P*>(p);
}

/// FIFO of waiters owned by a primitive (CPython's `self._waiters` deque).
class WaitList {
 public:
  using Printer = void (*)(std::ostream&, const void*);
  /// `owner` names the primitive in the orphan error ("asyncio::Lock").
  explicit WaitList(const char* owner) noexcept : owner_(owner) {}
  /// As above, and says which of the owner's waits this list is (`role`: "get",
  /// "put", or null) and how to print the owner: the task dump and traces show
  /// what a waiting task waits on ("<asyncio::Lock [locked, waiters:1]>").
  WaitList(const char* owner, const char* role, const void* self, Printer print) noexcept
      : owner_(owner), role_(role), self_(self), print_(print) {}
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;
  ~WaitList() {
    if (head_ != nullptr) [[unlikely]] orphan_all();
  }

  bool empty() const noexcept { return head_ == nullptr; }
  /// Every linked entry, woken or not (a lock's `len(self._waiters)`: its
  /// waiters leave the deque only when they run).
  std::size_t size() const noexcept { return size_; }
  /// The entries not yet passed by the wake-up cursor (a queue's
  /// `len(self._getters)`: `_wakeup_next` pops the waiters it passes).
  std::size_t waiting() const noexcept { return waiting_; }
  WaitEntry* front() const noexcept { return head_; }
  static WaitEntry* next(const WaitEntry* e) noexcept { return e->next_; }

  void push_back(WaitEntry* e) noexcept {
    e->list_ = this;
    e->prev_ = tail_;
    e->next_ = nullptr;
    (tail_ != nullptr ? tail_->next_ : head_) = e;
    tail_ = e;
    e->woken_ = false;
    if (unwoken_ == nullptr) unwoken_ = e;
    ++size_;
    ++waiting_;
  }
  void remove(WaitEntry* e) noexcept {
    if (unwoken_ == e) unwoken_ = e->next_;
    if (!e->woken_) --waiting_;
    (e->prev_ != nullptr ? e->prev_->next_ : head_) = e->next_;
    (e->next_ != nullptr ? e->next_->prev_ : tail_) = e->prev_;
    e->list_ = nullptr;  // prev_ and next_ are stale until the next push_back
    --size_;
  }
  /// Unlinks `e` from whichever list holds it, if any.
  static void unlink(WaitEntry* e) noexcept {
    if (e->list_ != nullptr) e->list_->remove(e);
  }
  /// Unlinks `e`, which must be linked and woken() (passed by its list's
  /// cursor): remove() without the cursor's and the count's cases.
  static void unlink_woken(WaitEntry* e) noexcept {
    WaitList* l = e->list_;
    (e->prev_ != nullptr ? e->prev_->next_ : l->head_) = e->next_;
    (e->next_ != nullptr ? e->next_->prev_ : l->tail_) = e->prev_;
    e->list_ = nullptr;
    --l->size_;
  }
  WaitEntry* pop_front() noexcept {
    WaitEntry* e = head_;
    if (e != nullptr) remove(e);
    return e;
  }

  const char* owner() const noexcept { return owner_; }
  const char* role() const noexcept { return role_; }
  /// What `e`, linked here, waits for: role(), or "woken" for an entry of a
  /// list with a role that was woken and has not run yet.
  const char* role_of(const WaitEntry& e) const noexcept { return role_ != nullptr && e.woken_ ? "woken" : role_; }
  /// Prints the owner's repr, or its name when it gave no printer.
  void print_owner(std::ostream& os) const {
    if (print_ != nullptr) {
      print_(os, self_);
    } else {
      os << owner_;
    }
  }
  /// The list `e` is linked in, or null.
  static const WaitList* of(const WaitEntry& e) noexcept { return e.list_; }

  /// The first entry that is not done, or null: CPython's
  /// `next(fut for fut in self._waiters if not fut.done())`, in O(1)
  /// amortised. The list keeps a cursor before which every entry is done
  /// (woken or cancelled); this moves it past the entries done since. An entry
  /// never goes back to pending while linked (Queue unlinks before rearm()),
  /// so the cursor only moves forward: each entry is passed once.
  WaitEntry* first_not_done() noexcept {
    while (unwoken_ != nullptr && unwoken_->done()) pass_cursor();
    return unwoken_;
  }

  /// CPython's queue `_wakeup_next(waiters)`: passes the entries that are
  /// done (cancelled while waiting), then completes the first one that is
  /// not and passes it too. Passed entries stay linked here until their task
  /// runs (so that a list destroyed under them orphans them) but no longer
  /// count in waiting(), as if popped from CPython's deque. Returns the entry
  /// woken, or null when none waits.
  WaitEntry* wake_next() noexcept {
    while (WaitEntry* e = unwoken_) {
      pass_cursor();
      if (!e->done()) {
        e->wake();
        return e;
      }
    }
    return nullptr;
  }
  /// Passes every entry, completing those not done (a queue's shutdown()).
  void wake_all() noexcept {
    while (wake_next() != nullptr) {
    }
  }

  /// True when every entry is cancelled (or there is none): CPython's
  /// `all(w.cancelled() for w in self._waiters)`.
  bool all_cancelled() const noexcept {
    for (WaitEntry* e = head_; e != nullptr; e = e->next_) {
      if (!e->cancelled()) return false;
    }
    return true;
  }

 private:
  void orphan_all() noexcept;
  /// Moves the cursor past its entry, which stops counting as waiting.
  void pass_cursor() noexcept {
    unwoken_->woken_ = true;
    --waiting_;
    unwoken_ = unwoken_->next_;
  }
  WaitEntry* head_ = nullptr;
  WaitEntry* tail_ = nullptr;
  WaitEntry* unwoken_ = nullptr;  // every entry before it is done and woken() (first_not_done, wake_next)
  std::size_t size_ = 0;
  std::size_t waiting_ = 0;       // entries from unwoken_ on
  const char* owner_;
  const char* role_ = nullptr;
  const void* self_ = nullptr;
  Printer print_ = nullptr;
};

inline WaitEntry::~WaitEntry() { WaitList::unlink(this); }

/// The running task, which is about to wait on an entry. Throws the
/// RuntimeError of futures and sleep outside a task.
inline TaskCore& running_task_for_wait() {
  LoopCore* loop = t_running_loop;
  TaskCore* task = loop != nullptr ? loop->current_task() : nullptr;
  if (task == nullptr) [[unlikely]] return current_task_for_await();  // throws
  return *task;
}

/// Suspends `task`, the running one, on `entry` (bound to the task's loop
/// first), as suspend_on() does, inline for the hot path. With `wakeup`, that
/// node runs instead of the task when the entry completes (TaskCore::wait_on).
inline void suspend_task_on(TaskCore& task, WaitEntry& entry, std::coroutine_handle<> h,
                            DoneCallback* wakeup = nullptr) {
  entry.bind(t_running_loop);  // the task's loop: it is running
  if (wakeup != nullptr) {
    task.wait_on(entry, *wakeup);
  } else {
    task.wait_on(entry);
  }
  task.set_resume_point(h);  // last: the task suspends for sure (TaskCore::set_resume_point)
}

/// suspend_task_on() for the running task, returned. Throws RuntimeError
/// outside a task.
inline TaskCore& suspend_on_entry(WaitEntry& entry, std::coroutine_handle<> h,
                                  DoneCallback* wakeup = nullptr) {
  TaskCore& task = running_task_for_wait();
  suspend_task_on(task, entry, h, wakeup);
  return task;
}

/// True while the loop with this serial runs on a thread other than this one.
bool loop_is_running_elsewhere(std::uint64_t serial) noexcept;

/// The loop a primitive is bound to: the loop of the first task that had to
/// wait on it (CPython's `mixins._LoopBoundMixin`; the fast paths bind
/// nothing). A task of another loop that has to wait on it gets
/// RuntimeError("<repr> is bound to a different event loop").
///
/// A primitive is for one loop's tasks; two loops running at once on two
/// threads must get that error, not a data race (issue 8, defect 13): the
/// binding is atomic (the first loop to wait wins), and the operations that
/// wake waiters (`Event.set`, `Lock.release`, `Semaphore.release`,
/// `Condition.notify`, the queue's put/get/task_done/shutdown) check it with
/// `check_bound` before touching them. As in CPython, those operations do not
/// raise merely because the primitive once served another loop (two
/// `asyncio::run` one after the other on one thread): only while the loop it
/// is bound to runs on another thread, whose state they would race on.
class LoopBinding {
 public:
  template <class P>
  void check(const P& self) {
    LoopCore* loop = t_running_loop;
    if (loop == nullptr) return;  // not in a task: suspending throws anyway
    std::uint64_t bound = loop_.load(std::memory_order_acquire);
    if (bound == 0 && loop_.compare_exchange_strong(bound, loop->serial(), std::memory_order_acq_rel)) return;
    if (bound != loop->serial()) [[unlikely]] throw_bound_elsewhere(self, bound);
  }
  /// RuntimeError when bound to a loop that is running on another thread
  /// than this one, from a task of another loop or from no loop at all (binds
  /// nothing; the common case is one load and one comparison).
  template <class P>
  void check_bound(const P& self) const {
    std::uint64_t bound = loop_.load(std::memory_order_acquire);
    if (bound == 0) return;
    LoopCore* loop = t_running_loop;
    if (loop != nullptr && loop->serial() == bound) return;
    if (loop_is_running_elsewhere(bound)) [[unlikely]] throw_bound_elsewhere(self, bound);
  }

 private:
  /// The message has the primitive's repr, as CPython's; while the loop it is
  /// bound to runs on another thread, its state belongs to that thread, and
  /// the repr is only `<asyncio::Event object at 0x...>`.
  template <class P>
  [[noreturn]] static void throw_bound_elsewhere(const P& self, std::uint64_t bound) {
    std::ostringstream os;
    if (loop_is_running_elsewhere(bound)) {
      os << "<";
      if constexpr (requires { P::primitive_name; }) {
        os << P::primitive_name;  // a template (the queues) names itself
      } else {
        os << demangle(typeid(P));
      }
      os << " object at " << static_cast<const void*>(&self) << ">";
    } else {
      os << self;
    }
    throw RuntimeError(os.str() + " is bound to a different event loop");
  }
  std::atomic<std::uint64_t> loop_{0};  // LoopCore::serial(), 0 while unbound
};

/// Base of the awaiters that wait on a WaitEntry in a primitive's WaitList.
/// The entry is constructed only when the awaiter suspends: the fast path
/// (`await_ready()` true) pays for no future; `task` tells whether it exists.
/// Movable only before it is awaited.
struct EntryAwaiter {
  TaskCore* task = nullptr;  // set when suspended; null when await_ready() took the fast path
  EntryAwaiter() noexcept {}
  EntryAwaiter(EntryAwaiter&&) noexcept {}  // before co_await: nothing to move
  EntryAwaiter& operator=(EntryAwaiter&&) = delete;
  ~EntryAwaiter() {
    if (task != nullptr) entry_.~WaitEntry();
  }
  /// The entry; exists once suspended (task != null).
  WaitEntry& entry() noexcept { return entry_; }
  /// Suspends the task on a new entry, then appends the entry to `list`.
  /// RuntimeError outside a task (no entry is made).
  void wait_in(WaitList& list, std::coroutine_handle<> h, DoneCallback* wakeup = nullptr) {
    TaskCore& t = running_task_for_wait();
    std::construct_at(&entry_);
    task = &t;
    suspend_task_on(t, entry_, h, wakeup);
    list.push_back(&entry_);
  }
  /// After a plain wake-up, once the entry is unlinked: it is finished with a
  /// result (no exception), nothing is registered on it, it has no cancel
  /// message, so its destructor would do nothing. The awaiter forgets it
  /// (`task` null, as on the fast path) and skips that destructor: ending an
  /// object's lifetime without calling a destructor whose effects nothing
  /// depends on is allowed ([basic.life]); it saves ~10 instructions per wait.
  void forget_inert_entry() noexcept {
    assert(!entry_.linked() && entry_.state() == FutureState::finished && entry_.holds_nothing());
    task = nullptr;
  }
  /// Throws what ended the wait when it did not end by a result: the
  /// cancellation (a pending cancel() first, as Task.__step does), or the
  /// orphan error. Returns normally when the entry holds a result.
  void rethrow_outcome() {
    task->throw_if_cancel_requested(entry());
    entry().result();
  }
  /// The primitive was destroyed while we waited: never touch it again.
  [[noreturn]] void throw_orphaned();

 private:
  union {
    WaitEntry entry_;  // constructed by wait_in
  };
};

}  // namespace asyncio::detail
