#pragma once
/// \file locks.hpp
/// Synchronisation primitives (CPython `asyncio/locks.py`): `Lock`, `Event`,
/// `Condition`, `Semaphore`, `BoundedSemaphore`, `Barrier`.
///
/// They synchronise *tasks of one event loop*, not threads: nothing here is
/// thread-safe, and none of them blocks the thread. Semantics are CPython
/// 3.12's, to the iteration:
///
/// - waiters are served first in, first out; a wake-up (`set_result` on the
///   waiter's future) resumes the waiting task on the next loop iteration;
/// - a task cancelled while it waits leaves by `CancelledError` at its
///   `co_await`, and a task cancelled *at the moment it is woken* (woken, but
///   not yet resumed) passes the wake-up on to the next waiter: no lock hand-off
///   and no semaphore permit is lost;
/// - misuse throws asyncio's error with asyncio's message: `RuntimeError("Lock
///   is not acquired.")`, `ValueError("BoundedSemaphore released too many
///   times")`, `RuntimeError("cannot wait on un-acquired lock")`, ...
///
/// `async with`, in C++: `co_await lock` (or a Condition, Semaphore,
/// BoundedSemaphore) acquires it and returns a `LockGuard` that releases it
/// when the guard goes out of scope, whether the block ends normally, by an
/// exception or by a cancellation:
///
/// ```cpp
/// asyncio::Lock lock;
/// {                                   // Python:
///   auto guard = co_await lock;       //   async with lock:
///   co_await asyncio::sleep(0);       //       await asyncio.sleep(0)
/// }                                   //   (released here)
/// co_await lock.acquire();            //   await lock.acquire()
/// lock.release();                     //   lock.release()
/// ```
///
/// `co_await lock;` without keeping the guard would release at once: the guard
/// is `[[nodiscard]]`.
///
/// Each type prints its state and waiter counts like asyncio's repr:
/// `<asyncio.locks.Lock object at 0x... [locked, waiters:1]>`.
///
/// Loop binding, as CPython's: a primitive binds to the loop of the first task
/// that has to wait on it; a task of another loop that has to wait gets
/// RuntimeError("<repr> is bound to a different event loop").
///
/// Lifetime: a primitive must outlive the tasks waiting on it. If it is
/// destroyed first, each waiting task gets RuntimeError at its `co_await`
/// (detail/waiters.hpp) rather than undefined behaviour. Primitives are neither
/// copyable nor movable (waiters point into them).
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <type_traits>
#include <utility>

#include "asyncio/coroutines.hpp"
#include "asyncio/detail/waiters.hpp"
#include "asyncio/exceptions.hpp"

namespace asyncio {

/// What `co_await lock` returns: owns one acquisition of a Lock, Condition,
/// Semaphore or BoundedSemaphore and releases it at the end of its scope (the
/// `__aexit__` of `async with`). Move-only.
///
/// `release()` releases early; the destructor then does nothing. If the
/// primitive was already released behind the guard's back (a Lock released by
/// someone else), the destructor cannot throw: it reports the RuntimeError
/// through the loop's exception handler instead.
template <class L>
class [[nodiscard]] LockGuard {
 public:
  LockGuard() noexcept = default;
  explicit LockGuard(L& lock) noexcept : lock_(&lock) {}
  LockGuard(LockGuard&& o) noexcept : lock_(std::exchange(o.lock_, nullptr)) {}
  LockGuard& operator=(LockGuard&& o) noexcept {
    if (this != &o) {
      reset();
      lock_ = std::exchange(o.lock_, nullptr);
    }
    return *this;
  }
  ~LockGuard() { reset(); }

  /// Releases now (Python: leaving the `async with` block).
  void release() {
    if (L* l = std::exchange(lock_, nullptr)) l->release();
  }
  /// True while the guard still owns an acquisition.
  bool owns_lock() const noexcept { return lock_ != nullptr; }
  explicit operator bool() const noexcept { return owns_lock(); }

 private:
  void reset() noexcept {
    if (L* l = std::exchange(lock_, nullptr)) {
      try {
        l->release();
      } catch (...) {
        detail::report(detail::t_running_loop,
                       ExceptionContext{"LockGuard: release at the end of the scope failed",
                                        std::current_exception(), {}, {}});
      }
    }
  }
  L* lock_ = nullptr;
};


// ---- Lock --------------------------------------------------------------------------

/// A mutual exclusion lock for tasks (`asyncio.Lock`).
///
/// Not owned by a task: any task may release it. `acquire()` takes it at once
/// if it is unlocked and no live waiter is queued (fair: a newcomer never jumps
/// the queue); otherwise it waits. `release()` unlocks and wakes the first
/// waiter, which takes the lock when it resumes on the next iteration.
///
/// Invariant [CPython's]: if the lock is unlocked and a waiter is queued, the
/// first waiter is woken (its future done) — a waiter cancelled at the moment
/// of its wake-up wakes the next one (`_wake_up_first`).
///
/// ```cpp
/// asyncio::Lock lock;
/// auto guard = co_await lock;     // async with lock:
/// ```
///
/// Thread safety: one loop's tasks only.
class Lock {
 public:
  Lock() noexcept = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  /// True while the lock is held.
  bool locked() const noexcept { return locked_; }

  /// `co_await lock.acquire()`: waits until the lock is free, takes it,
  /// returns true. CancelledError if the task is cancelled while waiting.
  struct [[nodiscard]] AcquireAwaiter : detail::EntryAwaiter {
    Lock* lock;
    explicit AcquireAwaiter(Lock* l) noexcept : lock(l) {}
    bool await_ready() noexcept { return lock->try_acquire_fast(); }
    void await_suspend(std::coroutine_handle<> h) {
      lock->binding_.check(*lock);
      wait_in(lock->waiters_, h);
    }
    bool await_resume() {
      if (task != nullptr) lock->finish_wait(*this);
      return true;
    }
  };
  AcquireAwaiter acquire() noexcept { return AcquireAwaiter(this); }

  /// Unlocks and wakes the first waiter. RuntimeError("Lock is not acquired.")
  /// when the lock is not held.
  void release() {
    binding_.check_bound(*this);
    if (!locked_) [[unlikely]] throw_not_acquired();
    locked_ = false;
    wake_up_first();
  }

  /// `co_await lock`: acquires and returns the guard that releases it.
  struct [[nodiscard]] GuardAwaiter : AcquireAwaiter {
    using AcquireAwaiter::AcquireAwaiter;
    LockGuard<Lock> await_resume() {
      AcquireAwaiter::await_resume();
      return LockGuard<Lock>(*lock);
    }
  };
  GuardAwaiter operator co_await() noexcept { return GuardAwaiter(this); }

  /// Waiters queued (including those woken but not yet resumed, as CPython).
  std::size_t waiters() const noexcept { return waiters_.size(); }

  /// `<asyncio.locks.Lock object at 0x... [locked, waiters:1]>`.
  friend std::ostream& operator<<(std::ostream& os, const Lock& l);

 private:
  friend class Condition;
  bool try_acquire_fast() noexcept {
    if (!locked_ && waiters_.all_cancelled()) {
      locked_ = true;
      return true;
    }
    return false;
  }
  void finish_wait(AcquireAwaiter& a);
  void wake_up_first() noexcept {
    detail::WaitEntry* first = waiters_.front();
    if (first != nullptr && !first->done()) first->set_result();
  }
  [[noreturn]] static void throw_not_acquired();

  detail::WaitList waiters_{"asyncio::Lock", nullptr, this, &detail::print_as<Lock>};
  detail::LoopBinding binding_;
  bool locked_ = false;
};

inline void Lock::finish_wait(AcquireAwaiter& a) {
  if (a.entry().orphaned()) [[unlikely]] a.throw_orphaned();  // the lock is gone
  // finally: self._waiters.remove(fut)
  detail::WaitList::unlink(&a.entry());
  if (a.task->cancel_pending() || a.entry().cancelled()) [[unlikely]] {
    // except CancelledError: pass the wake-up on if we were the one woken.
    if (!locked_) wake_up_first();
    a.rethrow_outcome();
  }
  locked_ = true;
}

// ---- Event -------------------------------------------------------------------------

/// A flag tasks can wait for (`asyncio.Event`).
///
/// `set()` sets the flag and wakes every waiter (they resume on the next
/// iteration, in the order they started waiting); `wait()` returns at once
/// while the flag is set; `clear()` resets it.
///
/// ```cpp
/// asyncio::Event ready;
/// co_await ready.wait();     // in one task
/// ready.set();               // in another
/// ```
///
/// Thread safety: one loop's tasks only (from another thread, use
/// `loop.call_soon_threadsafe([&] { event.set(); })`).
class Event {
 public:
  Event() noexcept = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const noexcept { return value_; }
  /// Sets the flag; wakes every waiter that is not done yet. RuntimeError
  /// from a task of another loop than the one its waiters wait in.
  void set() {
    binding_.check_bound(*this);
    if (value_) return;
    value_ = true;
    for (detail::WaitEntry* e = waiters_.front(); e != nullptr; e = detail::WaitList::next(e)) {
      if (!e->done()) e->set_result();
    }
  }
  void clear() noexcept { value_ = false; }

  /// `co_await event.wait()`: returns true once the flag is set.
  struct [[nodiscard]] WaitAwaiter : detail::EntryAwaiter {
    Event* event;
    explicit WaitAwaiter(Event* e) noexcept : event(e) {}
    bool await_ready() const noexcept { return event->value_; }
    void await_suspend(std::coroutine_handle<> h) {
      event->binding_.check(*event);
      wait_in(event->waiters_, h);
    }
    bool await_resume() {
      if (task != nullptr) {
        detail::WaitList::unlink(&entry());  // finally: self._waiters.remove(fut)
        rethrow_outcome();
      }
      return true;
    }
  };
  WaitAwaiter wait() noexcept { return WaitAwaiter(this); }

  std::size_t waiters() const noexcept { return waiters_.size(); }
  /// `<asyncio.locks.Event object at 0x... [unset, waiters:3]>`.
  friend std::ostream& operator<<(std::ostream& os, const Event& e);

 private:
  detail::WaitList waiters_{"asyncio::Event", nullptr, this, &detail::print_as<Event>};
  detail::LoopBinding binding_;
  bool value_ = false;
};

// ---- Condition ---------------------------------------------------------------------

/// A condition variable for tasks (`asyncio.Condition`): tasks wait until
/// another task notifies them, holding a Lock around the shared state.
///
/// `Condition()` makes its own Lock; `Condition(lock)` shares `lock` (which
/// must outlive it). `co_await cond` acquires the lock and returns a guard,
/// as for a Lock; `acquire()`, `release()`, `locked()` are the lock's.
///
/// `wait()` (lock held) releases the lock, waits to be notified, re-acquires
/// the lock (even when cancelled: the CancelledError is thrown once the lock is
/// held again), returns true. `wait_for(pred)` waits until `pred()` is true and
/// returns its final value. `notify(n)` wakes up to n waiters, `notify_all()`
/// all of them; both need the lock held (RuntimeError otherwise).
///
/// As in CPython 3.12: a waiter that leaves wait() by an exception after it may
/// have been notified (e.g. cancelled at that moment) notifies one other waiter
/// in its place, so a notification is never lost (a "spurious wake-up" is
/// possible, hence wait_for).
///
/// ```cpp
/// auto guard = co_await cond;                              // async with cond:
/// co_await cond.wait_for([&] { return !items.empty(); });  //     await cond.wait_for(...)
/// ```
///
/// Thread safety: one loop's tasks only.
class Condition {
 public:
  Condition() noexcept : lock_(&own_lock_) {}
  explicit Condition(Lock& lock) noexcept : lock_(&lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  bool locked() const noexcept { return lock_->locked(); }
  Lock::AcquireAwaiter acquire() noexcept { return lock_->acquire(); }
  void release() { lock_->release(); }
  Lock::GuardAwaiter operator co_await() noexcept { return lock_->operator co_await(); }
  Lock& lock() const noexcept { return *lock_; }

  /// Releases the lock, waits for a notify, re-acquires the lock; returns true.
  Coro<bool> wait();

  /// Waits until `pred()` is truthy; returns its last value. The lock must be held.
  template <class Pred>
  Coro<std::invoke_result_t<Pred&>> wait_for(Pred pred) {
    auto result = pred();
    while (!result) {
      co_await wait();
      result = pred();
    }
    co_return result;
  }

  /// Wakes up to `n` waiters (that are not woken already). The lock must be held.
  void notify(std::size_t n = 1) {
    binding_.check_bound(*this);
    if (!locked()) throw_not_locked("cannot notify on un-acquired lock");
    notify_waiters(n);
  }
  /// Wakes every waiter. The lock must be held.
  void notify_all() { notify(waiters_.size()); }

  std::size_t waiters() const noexcept { return waiters_.size(); }
  /// `<asyncio.locks.Condition object at 0x... [locked, waiters:2]>`.
  friend std::ostream& operator<<(std::ostream& os, const Condition& c);

 private:
  struct NotifyAwaiter;
  void notify_waiters(std::size_t n) noexcept;
  [[noreturn]] static void throw_not_locked(const char* msg);

  Lock own_lock_;
  Lock* lock_;
  detail::WaitList waiters_{"asyncio::Condition", nullptr, this, &detail::print_as<Condition>};
  detail::LoopBinding binding_;
};

// ---- Semaphore ---------------------------------------------------------------------

/// A counter of permits (`asyncio.Semaphore`): `acquire()` takes one, waiting
/// while there is none; `release()` gives one back and wakes the first waiter.
///
/// Semantics of CPython 3.12: `release()` hands its permit to the first waiter
/// at once (the waiter is counted as served even before it resumes), so a
/// newcomer cannot take it; `acquire()` waits while any non-cancelled waiter
/// is queued (FIFO). A waiter cancelled at the moment of its wake-up gives the
/// permit back and it goes to the next waiter. `locked()` is true when an
/// acquire() would wait.
///
/// ```cpp
/// asyncio::Semaphore sem(2);
/// auto guard = co_await sem;        // async with sem:
/// ```
///
/// Thread safety: one loop's tasks only.
class Semaphore {
 public:
  /// ValueError("Semaphore initial value must be >= 0") when `value` < 0.
  explicit Semaphore(std::ptrdiff_t value = 1);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  /// True when acquire() would wait (no permit, or others are queued first).
  bool locked() const noexcept { return value_ == 0 || !waiters_.all_cancelled(); }
  /// The permits left.
  std::ptrdiff_t value() const noexcept { return value_; }

  /// `co_await sem.acquire()`: takes a permit, waiting for one; returns true.
  struct [[nodiscard]] AcquireAwaiter : detail::EntryAwaiter {
    Semaphore* sem;
    explicit AcquireAwaiter(Semaphore* s) noexcept : sem(s) {}
    bool await_ready() noexcept {
      if (sem->locked()) return false;
      --sem->value_;
      return true;
    }
    void await_suspend(std::coroutine_handle<> h) {
      sem->binding_.check(*sem);
      wait_in(sem->waiters_, h);
    }
    bool await_resume() {
      if (task != nullptr) sem->finish_wait(*this);
      return true;
    }
  };
  AcquireAwaiter acquire() noexcept { return AcquireAwaiter(this); }

  /// Gives a permit back and wakes the first waiter. For a BoundedSemaphore,
  /// even through a `Semaphore&` (Python dispatches dynamically): ValueError
  /// when that would pass its initial value.
  void release() {
    binding_.check_bound(*this);
    if (value_ >= bound_value_) [[unlikely]] throw_too_many();
    ++value_;
    wake_up_next();
  }

  struct [[nodiscard]] GuardAwaiter : AcquireAwaiter {
    using AcquireAwaiter::AcquireAwaiter;
    LockGuard<Semaphore> await_resume() {
      AcquireAwaiter::await_resume();
      return LockGuard<Semaphore>(*sem);
    }
  };
  /// `co_await sem`: acquires, returns the guard that releases.
  GuardAwaiter operator co_await() noexcept { return GuardAwaiter(this); }

  std::size_t waiters() const noexcept { return waiters_.size(); }
  /// `<asyncio.locks.Semaphore object at 0x... [unlocked, value:2]>` (or
  /// BoundedSemaphore).
  friend std::ostream& operator<<(std::ostream& os, const Semaphore& s);

 protected:
  std::ptrdiff_t value_;
  /// A count release() never passes (BoundedSemaphore's initial value).
  std::ptrdiff_t bound_value_ = PTRDIFF_MAX;
  const char* kind_ = "Semaphore";

 private:
  [[noreturn]] static void throw_too_many();
  void finish_wait(AcquireAwaiter& a);
  /// Hands a permit to the first waiter not yet woken; false when there is
  /// none. O(1) amortised: the waiters woken but not yet resumed (a burst of
  /// releases in one iteration) are not walked again (WaitList::first_not_done).
  bool wake_up_next() noexcept {
    detail::WaitEntry* e = waiters_.first_not_done();
    if (e == nullptr) return false;
    --value_;
    e->set_result();
    return true;
  }

  detail::WaitList waiters_{"asyncio::Semaphore", nullptr, this, &detail::print_as<Semaphore>};
  detail::LoopBinding binding_;
};

/// A Semaphore that refuses to be released above its initial value
/// (`asyncio.BoundedSemaphore`): ValueError("BoundedSemaphore released too
/// many times").
///
/// Thread safety: one loop's tasks only.
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::ptrdiff_t value = 1) : Semaphore(value) {
    bound_value_ = value;
    kind_ = "BoundedSemaphore";
  }

  struct [[nodiscard]] GuardAwaiter : AcquireAwaiter {
    BoundedSemaphore* bounded;
    explicit GuardAwaiter(BoundedSemaphore* s) noexcept : AcquireAwaiter(s), bounded(s) {}
    LockGuard<BoundedSemaphore> await_resume() {
      AcquireAwaiter::await_resume();
      return LockGuard<BoundedSemaphore>(*bounded);
    }
  };
  /// `co_await sem`: acquires, returns the guard that releases (with the bound check).
  GuardAwaiter operator co_await() noexcept { return GuardAwaiter(this); }

};

// ---- Barrier -----------------------------------------------------------------------

/// A meeting point for a fixed number of tasks (`asyncio.Barrier`, 3.11+).
///
/// `wait()` blocks until `parties` tasks are waiting, then lets them all pass
/// and returns each one's arrival index (0 .. parties-1; the last to arrive
/// passes first). The barrier is reusable: once every task of a round has left,
/// it fills again. `abort()` breaks it (waiting and future callers get
/// BrokenBarrierError until `reset()`); `reset()` returns it to the empty
/// state, breaking the current waiters.
///
/// ```cpp
/// asyncio::Barrier barrier(3);
/// std::size_t index = co_await barrier.wait();
/// std::size_t pos = co_await barrier;   // Python: async with barrier as pos:
/// ```
///
/// `async with barrier as pos:` waits on entry and does nothing on exit, so
/// its C++ form is `co_await barrier` (the same as `co_await barrier.wait()`).
///
/// Thread safety: one loop's tasks only.
class Barrier {
 public:
  /// The states of `threading.Barrier`/`asyncio.Barrier` (`_BarrierState`).
  enum class State : std::uint8_t { filling, draining, resetting, broken };

  /// ValueError("parties must be > 0") when `parties` < 1.
  explicit Barrier(std::ptrdiff_t parties);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  /// Waits for the barrier; returns this task's arrival index.
  /// BrokenBarrierError when the barrier is (or gets) broken or reset.
  Coro<std::size_t> wait();
  /// `co_await barrier` (`async with barrier as pos`): `co_await barrier.wait()`.
  struct [[nodiscard]] WaitAwaiter {
    explicit WaitAwaiter(Coro<std::size_t> c) : coro(std::move(c)) {}
    Coro<std::size_t> coro;
    bool await_ready() { return coro.await_ready(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) noexcept { return coro.await_suspend(h); }
    std::size_t await_resume() { return coro.await_resume(); }
  };
  WaitAwaiter operator co_await() { return WaitAwaiter{wait()}; }
  /// Returns the barrier to the empty state; current waiters get BrokenBarrierError.
  Coro<void> reset();
  /// Breaks the barrier: current and future waiters get BrokenBarrierError.
  Coro<void> abort();

  std::size_t parties() const noexcept { return parties_; }
  /// Tasks waiting now in the filling barrier (0 while draining).
  std::size_t n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
  bool broken() const noexcept { return state_ == State::broken; }
  State state() const noexcept { return state_; }

  /// `<asyncio.locks.Barrier object at 0x... [filling, waiters:1/3]>`.
  friend std::ostream& operator<<(std::ostream& os, const Barrier& b);

 private:
  Coro<void> block();
  Coro<void> wait_released();
  void exit_();

  Condition cond_;
  std::size_t parties_;
  std::size_t count_ = 0;
  State state_ = State::filling;
};

std::ostream& operator<<(std::ostream& os, Barrier::State s);

}  // namespace asyncio
