// Synchronisation primitives (CPython 3.12 asyncio/locks.py): the parts that
// are not on the hot path, and the reprs.
#include "asyncio/locks.hpp"

namespace asyncio {
namespace detail {

void WaitList::orphan_all() noexcept {
  std::string msg = std::string(owner_) + " destroyed while a task was waiting on it";
  while (WaitEntry* e = pop_front()) {
    e->orphaned_ = true;
    if (!e->done()) {
      try {
        e->set_exception_ptr(std::make_exception_ptr(RuntimeError(msg)));
      } catch (...) {  // bad_alloc: cancel instead, the task must wake up
        e->cancel();
      }
    }
  }
}

void EntryAwaiter::throw_orphaned() {
  task->throw_if_cancel_requested();
  entry().result();  // the orphan error, or CancelledError
  throw RuntimeError("the primitive was destroyed while a task was waiting on it");
}

}  // namespace detail

// ---- Lock ------------------------------------------------------------------------

void Lock::throw_not_acquired() { throw RuntimeError("Lock is not acquired."); }

std::ostream& operator<<(std::ostream& os, const Lock& l) {
  os << "<asyncio.locks.Lock object at " << static_cast<const void*>(&l) << " ["
     << (l.locked_ ? "locked" : "unlocked");
  if (!l.waiters_.empty()) os << ", waiters:" << l.waiters_.size();
  return os << "]>";
}

// ---- Event -----------------------------------------------------------------------

std::ostream& operator<<(std::ostream& os, const Event& e) {
  os << "<asyncio.locks.Event object at " << static_cast<const void*>(&e) << " ["
     << (e.value_ ? "set" : "unset");
  if (!e.waiters_.empty()) os << ", waiters:" << e.waiters_.size();
  return os << "]>";
}

// ---- Condition -------------------------------------------------------------------

/// Waits for a notify(): the `await fut` of Condition.wait, with its
/// `finally: self._waiters.remove(fut)`.
struct Condition::NotifyAwaiter : detail::EntryAwaiter {
  Condition* cond;
  explicit NotifyAwaiter(Condition* c) noexcept : cond(c) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    cond->binding_.check(*cond);
    wait_in(cond->waiters_, h);
  }
  void await_resume() {
    if (entry().orphaned()) [[unlikely]] throw_orphaned();
    detail::WaitList::unlink(&entry());
    rethrow_outcome();
  }
};

void Condition::throw_not_locked(const char* msg) { throw RuntimeError(msg); }

void Condition::notify_waiters(std::size_t n) noexcept {
  std::size_t idx = 0;
  for (detail::WaitEntry* e = waiters_.front(); e != nullptr; e = detail::WaitList::next(e)) {
    if (idx >= n) break;
    if (!e->done()) {
      ++idx;
      e->set_result();
    }
  }
}

Coro<bool> Condition::wait() {
  if (!locked()) throw_not_locked("cannot wait on un-acquired lock");
  release();
  // C++ cannot co_await in a catch block: the exceptions are kept and
  // rethrown after the lock is re-acquired (CPython's try/finally).
  std::exception_ptr error;
  try {
    co_await NotifyAwaiter(this);
  } catch (...) {
    error = std::current_exception();
  }
  // finally: must re-acquire the lock even if the wait was cancelled; only
  // CancelledError is retried, the most recent one is raised.
  std::exception_ptr cancelled;
  for (;;) {
    try {
      co_await lock_->acquire();
      break;
    } catch (const CancelledError&) {
      cancelled = std::current_exception();
    }
  }
  if (cancelled) error = cancelled;
  if (error) {
    // except BaseException: this task may have been notified; notify another
    // one in its place (CPython 3.12, gh-112202), then re-raise.
    notify_waiters(1);
    std::rethrow_exception(error);
  }
  co_return true;
}

std::ostream& operator<<(std::ostream& os, const Condition& c) {
  os << "<asyncio.locks.Condition object at " << static_cast<const void*>(&c) << " ["
     << (c.locked() ? "locked" : "unlocked");
  if (!c.waiters_.empty()) os << ", waiters:" << c.waiters_.size();
  return os << "]>";
}

// ---- Semaphore -------------------------------------------------------------------

Semaphore::Semaphore(std::ptrdiff_t value) : value_(value) {
  if (value < 0) throw ValueError("Semaphore initial value must be >= 0");
}

void Semaphore::finish_wait(AcquireAwaiter& a) {
  if (a.entry().orphaned()) [[unlikely]] a.throw_orphaned();
  detail::WaitList::unlink(&a.entry());  // finally: self._waiters.remove(fut)
  bool cancelled = a.task->cancel_pending() || a.entry().cancelled();
  // except CancelledError: woken by _wake_up_next (our permit was counted)
  // but not acquiring after all: give the permit back.
  if (cancelled && a.entry().done() && !a.entry().cancelled()) ++value_;
  // finally: new waiters may have had to queue behind us (FIFO): wake as
  // many as there are permits.
  while (value_ > 0) {
    if (!wake_up_next()) break;
  }
  if (cancelled) a.rethrow_outcome();
}

std::ostream& operator<<(std::ostream& os, const Semaphore& s) {
  os << "<asyncio.locks." << s.kind_ << " object at " << static_cast<const void*>(&s) << " [";
  if (s.locked()) {
    os << "locked";
  } else {
    os << "unlocked, value:" << s.value_;
  }
  if (!s.waiters_.empty()) os << ", waiters:" << s.waiters_.size();
  return os << "]>";
}

void Semaphore::throw_too_many() {
  throw ValueError("BoundedSemaphore released too many times");
}

// ---- Barrier ---------------------------------------------------------------------

Barrier::Barrier(std::ptrdiff_t parties) : parties_(static_cast<std::size_t>(parties)) {
  if (parties < 1) throw ValueError("parties must be > 0");
}

Coro<std::size_t> Barrier::wait() {
  auto guard = co_await cond_;  // async with self._cond:
  co_await block();             // block while the barrier drains or resets
  std::size_t index = count_++;
  try {
    if (index + 1 == parties_) {
      // The last to arrive releases the others.
      state_ = State::draining;
      cond_.notify_all();
    } else {
      co_await wait_released();
    }
  } catch (...) {
    --count_;
    exit_();
    throw;
  }
  --count_;
  exit_();
  co_return index;
}

Coro<void> Barrier::block() {
  co_await cond_.wait_for([this] { return state_ != State::draining && state_ != State::resetting; });
  if (state_ == State::broken) throw BrokenBarrierError("Barrier aborted");
}

Coro<void> Barrier::wait_released() {
  co_await cond_.wait_for([this] { return state_ != State::filling; });
  if (state_ == State::broken || state_ == State::resetting)
    throw BrokenBarrierError("Abort or reset of barrier");
}

void Barrier::exit_() {
  // The last task to leave lets the tasks waiting for the drain in.
  if (count_ == 0) {
    if (state_ == State::resetting || state_ == State::draining) state_ = State::filling;
    cond_.notify_all();  // the lock is held: we are inside `async with self._cond`
  }
}

Coro<void> Barrier::reset() {
  auto guard = co_await cond_;
  if (count_ > 0) {
    if (state_ != State::resetting) state_ = State::resetting;
  } else {
    state_ = State::filling;
  }
  cond_.notify_all();
}

Coro<void> Barrier::abort() {
  auto guard = co_await cond_;
  state_ = State::broken;
  cond_.notify_all();
}

std::ostream& operator<<(std::ostream& os, Barrier::State s) {
  switch (s) {
    case Barrier::State::filling:
      return os << "filling";
    case Barrier::State::draining:
      return os << "draining";
    case Barrier::State::resetting:
      return os << "resetting";
    case Barrier::State::broken:
      return os << "broken";
  }
  return os;
}

std::ostream& operator<<(std::ostream& os, const Barrier& b) {
  os << "<asyncio.locks.Barrier object at " << static_cast<const void*>(&b) << " [" << b.state_;
  if (!b.broken()) os << ", waiters:" << b.n_waiting() << "/" << b.parties_;
  return os << "]>";
}

}  // namespace asyncio
