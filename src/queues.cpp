// Queues (CPython 3.13 asyncio/queues.py): the untyped part.
#include "asyncio/queues.hpp"

#include <algorithm>
#include <string>

namespace asyncio::detail {

QueueCore::QueueCore(std::ptrdiff_t maxsize)
    : limit_(maxsize == 0 ? kUnbounded : static_cast<std::size_t>(maxsize)) {
  if (maxsize < 0)
    throw ValueError("Queue maxsize must be >= 0 (0 means unbounded), got " + std::to_string(maxsize));
  finished_.set();
}

// Runs, in the slot where the waiting task's step would run, when the task's
// waiter future completes. CPython's task would resume in
// `while self.empty(): ... await getter`, find the queue still empty (full)
// if a get_nowait/put_nowait took the item (slot) meanwhile, and wait again
// with a new future at the back of the line: that is done here without
// resuming the coroutine. Otherwise the task's step runs now.
void QueueWaiter::on_wake(Runnable* r) {
  if (r == nullptr) __builtin_unreachable();  // a queued entry: no null check for the cast
  auto* w = static_cast<QueueWaiter*>(static_cast<DoneCallback*>(r));
  TaskCore* task = w->task;
  if (!w->entry().orphaned() && !w->entry().cancelled() && !task->cancel_pending()) [[likely]] {
    QueueCore& q = *w->queue;
    bool blocked = w->is_put ? q.full() : q.empty();
    if (blocked && !q.shutdown_) [[unlikely]] {
      w->wait_again();
      return;
    }
    w->plain_wakeup = true;
  }
  task->step();
}

void QueueWaiter::wait_again() {
  QueueCore& q = *queue;
  WaitList::unlink(&entry());
  entry().rearm();
  task->wait_on(entry(), *this);
  (is_put ? q.putters_ : q.getters_).push_back(&entry());
}

const RunnableOps QueueWaiter::kOps{&QueueWaiter::on_wake, &drop_nothing};

void QueueCore::finish_other_wait(QueueWaiter& w) {
  if (w.entry().orphaned()) [[unlikely]] w.throw_orphaned();
  WaitList::unlink(&w.entry());
  if (w.task->cancel_pending() || w.entry().cancelled()) [[unlikely]] cancelled_wait(w);
}

void QueueCore::cancelled_wait(QueueWaiter& w) {
  // except: the waiter is already removed (unlinked). If we were woken (our
  // future has a result) but cannot take the item (slot), wake the next in line.
  bool woken = !w.entry().cancelled();
  if (woken && (w.is_put ? !full() : !empty())) wakeup_next(w.is_put ? putters_ : getters_);
  w.rethrow_outcome();
  throw CancelledError();  // not reached: rethrow_outcome throws on this path
}

void QueueCore::shutdown_core(bool immediate, std::size_t dropped) noexcept {
  shutdown_ = true;
  if (immediate) {
    size_ -= dropped;
    unfinished_ -= std::min(dropped, unfinished_);
    if (unfinished_ == 0) finished_.set();
  }
  // All getters (putters) need to re-check the queue to raise QueueShutDown.
  getters_.wake_all();
  putters_.wake_all();
}

void QueueCore::print_core(std::ostream& os) const {
  if (getters_.waiting() > 0) os << " _getters[" << getters_.waiting() << ']';
  if (putters_.waiting() > 0) os << " _putters[" << putters_.waiting() << ']';
  if (unfinished_ > 0) os << " tasks=" << unfinished_;
  if (shutdown_) os << " shutdown";
}

void QueueCore::print_owner(std::ostream& os, const void* self) {
  const auto& q = *static_cast<const QueueCore*>(self);
  os << "<Queue maxsize=" << q.maxsize() << " qsize=" << q.size_;
  q.print_core(os);
  os << '>';
}

void QueueCore::throw_task_done() { throw ValueError("task_done() called too many times"); }

void QueueCore::throw_put_refused() const {
  if (shutdown_) throw QueueShutDown();
  throw QueueFull();
}

void QueueCore::throw_empty() const {
  if (shutdown_) throw QueueShutDown();
  throw QueueEmpty();
}

}  // namespace asyncio::detail
