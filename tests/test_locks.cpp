// Tests of locks.hpp: Lock, Event, Condition, Semaphore, BoundedSemaphore,
// Barrier. The scenario tests compare a log with loop-iteration numbers to the
// one printed by the same program on CPython 3.12's asyncio.locks (the Python
// twin is quoted above each expected text).
#include "asyncio/locks.hpp"

#include <gtest/gtest.h>

#include "scenario.hpp"

using namespace std::chrono_literals;
using scenario::note;
using scenario::r;
using scenario::say;
using scenario::Ticker;

namespace {

// ---- Lock --------------------------------------------------------------------------

asyncio::Coro<void> lock_user(Ticker& tk, asyncio::Lock& lock, std::string name) {
  say(tk, name + " waits");
  {
    auto guard = co_await lock;
    say(tk, name + " acquired");
    co_await asyncio::sleep(0);
  }
  say(tk, name + " released");
}

asyncio::Coro<void> lock_fifo() {
  Ticker tk;
  asyncio::Lock lock;
  co_await lock.acquire();
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B", "C"}) ts.push_back(asyncio::create_task(lock_user(tk, lock, n)));
  co_await asyncio::sleep(0);
  say(tk, r(lock));
  lock.release();
  say(tk, "main released");
  co_await scenario::wait_all(ts);
  say(tk, r(lock));
  tk.stop();
}

TEST(Lock, WakesWaitersFirstInFirstOutOneIterationAfterRelease) {
  EXPECT_EQ(scenario::run(lock_fifo()),
            "1: A waits\n"
            "1: B waits\n"
            "1: C waits\n"
            "1: <asyncio.locks.Lock object [locked, waiters:3]>\n"
            "1: main released\n"
            "2: A acquired\n"
            "3: A released\n"
            "4: B acquired\n"
            "5: B released\n"
            "6: C acquired\n"
            "7: C released\n"
            "8: <asyncio.locks.Lock object [unlocked]>\n");
}

asyncio::Coro<void> lock_cancellable(Ticker& tk, asyncio::Lock& lock, std::string name, bool yield) {
  try {
    auto guard = co_await lock;
    say(tk, name + " acquired");
    if (yield) co_await asyncio::sleep(0);
  } catch (const asyncio::CancelledError&) {
    say(tk, name + " cancelled");
    throw;
  }
}

asyncio::Coro<void> lock_cancel_waiting() {
  Ticker tk;
  asyncio::Lock lock;
  co_await lock.acquire();
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B", "C"})
    ts.push_back(asyncio::create_task(lock_cancellable(tk, lock, n, false)));
  co_await asyncio::sleep(0);
  ts[1].cancel();
  co_await asyncio::sleep(0);
  say(tk, r(lock));
  lock.release();
  co_await scenario::wait_all(ts);
  say(tk, std::string("locked=") + (lock.locked() ? "True" : "False"));
  tk.stop();
}

TEST(Lock, WaiterCancelledWhileWaitingLeavesTheQueue) {
  EXPECT_EQ(scenario::run(lock_cancel_waiting()),
            "2: B cancelled\n"
            "2: <asyncio.locks.Lock object [locked, waiters:2]>\n"
            "3: A acquired\n"
            "4: C acquired\n"
            "4: locked=False\n");
}

asyncio::Coro<void> lock_cancel_at_wakeup() {
  Ticker tk;
  asyncio::Lock lock;
  co_await lock.acquire();
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B", "C"})
    ts.push_back(asyncio::create_task(lock_cancellable(tk, lock, n, true)));
  co_await asyncio::sleep(0);
  lock.release();  // wakes A
  ts[0].cancel();  // A is cancelled at the moment of its wake-up
  say(tk, r(lock));
  ts.push_back(asyncio::create_task(lock_cancellable(tk, lock, "D", true)));  // cannot jump the queue
  co_await scenario::wait_all(ts);
  say(tk, std::string("locked=") + (lock.locked() ? "True" : "False") +
              " A.cancelled=" + (ts[0].cancelled() ? "True" : "False"));
  tk.stop();
}

TEST(Lock, WaiterCancelledAtTheMomentOfWakeUpPassesTheLockOn) {
  EXPECT_EQ(scenario::run(lock_cancel_at_wakeup()),
            "1: <asyncio.locks.Lock object [unlocked, waiters:3]>\n"
            "2: A cancelled\n"
            "3: B acquired\n"
            "5: C acquired\n"
            "7: D acquired\n"
            "9: locked=False A.cancelled=True\n");
}

TEST(Lock, ReleasingAnUnlockedLockThrowsRuntimeError) {
  asyncio::Lock lock;
  try {
    lock.release();
    FAIL() << "no exception";
  } catch (const asyncio::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "Lock is not acquired.");
  }
}


// ---- Event -------------------------------------------------------------------------

asyncio::Coro<void> event_waiter(Ticker& tk, asyncio::Event& ev, std::string name) {
  try {
    say(tk, name + " waits");
    bool v = co_await ev.wait();
    say(tk, name + " woke " + (v ? "True" : "False"));
  } catch (const asyncio::CancelledError&) {
    say(tk, name + " cancelled");
    throw;
  }
}

asyncio::Coro<void> event_basic() {
  Ticker tk;
  asyncio::Event ev;
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B", "C"}) ts.push_back(asyncio::create_task(event_waiter(tk, ev, n)));
  co_await asyncio::sleep(0);
  say(tk, r(ev));
  ts[1].cancel();
  co_await asyncio::sleep(0);
  say(tk, r(ev));
  ev.set();
  ev.set();
  say(tk, r(ev));
  co_await scenario::wait_all(ts);
  say(tk, r(ev));
  co_await ev.wait();
  say(tk, "wait on a set event returns at once");
  ev.clear();
  say(tk, r(ev));
  tk.stop();
}

TEST(Event, SetWakesEveryWaiterInOrderAndACancelledWaiterLeaves) {
  EXPECT_EQ(scenario::run(event_basic()),
            "1: A waits\n"
            "1: B waits\n"
            "1: C waits\n"
            "1: <asyncio.locks.Event object [unset, waiters:3]>\n"
            "2: B cancelled\n"
            "2: <asyncio.locks.Event object [unset, waiters:2]>\n"
            "2: <asyncio.locks.Event object [set, waiters:2]>\n"
            "3: A woke True\n"
            "3: C woke True\n"
            "4: <asyncio.locks.Event object [set]>\n"
            "4: wait on a set event returns at once\n"
            "4: <asyncio.locks.Event object [unset]>\n");
}

asyncio::Coro<void> event_cancel_at_wakeup() {
  Ticker tk;
  asyncio::Event ev;
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B"}) ts.push_back(asyncio::create_task(event_waiter(tk, ev, n)));
  co_await asyncio::sleep(0);
  ev.set();
  ts[0].cancel();
  ev.clear();  // cleared before they run: both were woken anyway
  co_await scenario::wait_all(ts);
  say(tk, std::string("A.cancelled=") + (ts[0].cancelled() ? "True" : "False") +
              " B.done=" + (ts[1].done() ? "True" : "False"));
  tk.stop();
}

TEST(Event, WaiterCancelledAtWakeUpEndsCancelledAndTheOthersStillWake) {
  EXPECT_EQ(scenario::run(event_cancel_at_wakeup()),
            "1: A waits\n"
            "1: B waits\n"
            "2: A cancelled\n"
            "2: B woke True\n"
            "3: A.cancelled=True B.done=True\n");
}


// ---- Condition ---------------------------------------------------------------------

std::string tf(bool b) { return b ? "True" : "False"; }

asyncio::Coro<void> cond_waiter(Ticker& tk, asyncio::Condition& cond, std::string name) {
  try {
    auto guard = co_await cond;
    say(tk, name + " waits");
    bool v = co_await cond.wait();
    say(tk, name + " notified " + tf(v) + " locked=" + tf(cond.locked()));
    co_await asyncio::sleep(0);
  } catch (const asyncio::CancelledError&) {
    say(tk, name + " cancelled locked=" + tf(cond.locked()));
    throw;
  }
}

asyncio::Coro<void> cond_notify_counts() {
  Ticker tk;
  asyncio::Condition cond;
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B", "C", "D", "E"}) ts.push_back(asyncio::create_task(cond_waiter(tk, cond, n)));
  co_await asyncio::sleep(0);
  say(tk, r(cond));
  {
    auto guard = co_await cond;
    cond.notify(2);
    say(tk, r(cond));
  }
  say(tk, "main released");
  co_await asyncio::sleep(0);
  co_await asyncio::sleep(0);
  co_await asyncio::sleep(0);
  say(tk, r(cond));
  {
    auto guard = co_await cond;
    cond.notify(0);
    cond.notify_all();
    say(tk, r(cond));
  }
  co_await scenario::wait_all(ts);
  say(tk, r(cond));
  tk.stop();
}

TEST(Condition, NotifyWakesExactlyNWaitersInOrderAndNotifyAllTheRest) {
  EXPECT_EQ(scenario::run(cond_notify_counts()),
            "1: A waits\n"
            "1: B waits\n"
            "1: C waits\n"
            "1: D waits\n"
            "1: E waits\n"
            "1: <asyncio.locks.Condition object [unlocked, waiters:5]>\n"
            "1: <asyncio.locks.Condition object [locked, waiters:5]>\n"
            "1: main released\n"
            "2: A notified True locked=True\n"
            "4: B notified True locked=True\n"
            "4: <asyncio.locks.Condition object [locked, waiters:3]>\n"
            "6: <asyncio.locks.Condition object [locked, waiters:3]>\n"
            "7: C notified True locked=True\n"
            "9: D notified True locked=True\n"
            "11: E notified True locked=True\n"
            "13: <asyncio.locks.Condition object [unlocked]>\n");
}

asyncio::Coro<void> cond_cancel_while_waiting() {
  Ticker tk;
  asyncio::Condition cond;
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B"}) ts.push_back(asyncio::create_task(cond_waiter(tk, cond, n)));
  co_await asyncio::sleep(0);
  co_await cond.acquire();
  ts[0].cancel();
  say(tk, "main holds the lock; A cancelled");
  co_await asyncio::sleep(0);
  co_await asyncio::sleep(0);
  say(tk, r(cond));
  cond.release();
  say(tk, "main released");
  co_await asyncio::sleep(0);
  say(tk, r(cond));
  {
    auto guard = co_await cond;
    cond.notify();
  }
  co_await scenario::wait_all(ts);
  say(tk, "A.cancelled=" + tf(ts[0].cancelled()));
  tk.stop();
}

TEST(Condition, WaiterCancelledWhileWaitingReacquiresTheLockBeforeItRaises) {
  EXPECT_EQ(scenario::run(cond_cancel_while_waiting()),
            "1: A waits\n"
            "1: B waits\n"
            "1: main holds the lock; A cancelled\n"
            "3: <asyncio.locks.Condition object [locked, waiters:1]>\n"
            "3: main released\n"
            "4: A cancelled locked=False\n"
            "4: <asyncio.locks.Condition object [unlocked, waiters:1]>\n"
            "5: B notified True locked=True\n"
            "7: A.cancelled=True\n");
}

asyncio::Coro<void> cond_cancel_at_notify() {
  Ticker tk;
  asyncio::Condition cond;
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B", "C"}) ts.push_back(asyncio::create_task(cond_waiter(tk, cond, n)));
  co_await asyncio::sleep(0);
  {
    auto guard = co_await cond;
    cond.notify(1);   // wakes A
    ts[0].cancel();   // A is cancelled at the moment of its wake-up
    say(tk, r(cond));
  }
  co_await scenario::wait_all(std::vector<asyncio::Task<void>>(ts.begin(), ts.begin() + 2));
  say(tk, r(cond));
  ts[2].cancel();
  co_await scenario::wait_all(std::vector<asyncio::Task<void>>(ts.begin() + 2, ts.end()));
  tk.stop();
}

TEST(Condition, WaiterCancelledAtTheMomentOfNotifyPassesTheNotificationOn) {
  EXPECT_EQ(scenario::run(cond_cancel_at_notify()),
            "1: A waits\n"
            "1: B waits\n"
            "1: C waits\n"
            "1: <asyncio.locks.Condition object [locked, waiters:3]>\n"
            "2: A cancelled locked=False\n"
            "3: B notified True locked=True\n"
            "5: <asyncio.locks.Condition object [unlocked, waiters:1]>\n"
            "6: C cancelled locked=False\n");
}

asyncio::Coro<void> cond_misuse() {
  asyncio::Condition cond;
  try {
    co_await cond.wait();
  } catch (const asyncio::RuntimeError& e) {
    note(std::string("wait: RuntimeError: ") + e.what());
  }
  try {
    cond.notify();
  } catch (const asyncio::RuntimeError& e) {
    note(std::string("notify: RuntimeError: ") + e.what());
  }
  try {
    cond.notify_all();
  } catch (const asyncio::RuntimeError& e) {
    note(std::string("notify_all: RuntimeError: ") + e.what());
  }
}

TEST(Condition, WaitAndNotifyWithoutTheLockThrowRuntimeError) {
  EXPECT_EQ(scenario::run(cond_misuse()),
            "wait: RuntimeError: cannot wait on un-acquired lock\n"
            "notify: RuntimeError: cannot notify on un-acquired lock\n"
            "notify_all: RuntimeError: cannot notify on un-acquired lock\n");
}

asyncio::Coro<void> cond_consumer(Ticker& tk, asyncio::Condition& cond, std::vector<std::string>& items,
                                  std::string name) {
  auto guard = co_await cond;
  std::size_t v = co_await cond.wait_for([&] { return items.size(); });
  say(tk, name + " predicate=" + std::to_string(v) + " took " + items.front());
  items.erase(items.begin());
}

asyncio::Coro<void> cond_shared_lock_and_wait_for() {
  Ticker tk;
  asyncio::Lock lock;
  asyncio::Condition cond(lock);
  std::vector<std::string> items;
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B"}) ts.push_back(asyncio::create_task(cond_consumer(tk, cond, items, n)));
  co_await asyncio::sleep(0);
  {
    auto guard = co_await lock;
    say(tk, "cond.locked=" + tf(cond.locked()));
    items.push_back("x");
    cond.notify_all();
  }
  co_await asyncio::sleep(0);
  co_await asyncio::sleep(0);
  say(tk, r(cond));
  {
    auto guard = co_await cond;
    items.push_back("y");
    cond.notify();
  }
  co_await scenario::wait_all(ts);
  tk.stop();
}

TEST(Condition, SharesAGivenLockAndWaitForReturnsThePredicateValue) {
  EXPECT_EQ(scenario::run(cond_shared_lock_and_wait_for()),
            "1: cond.locked=True\n"
            "2: A predicate=1 took x\n"
            "3: <asyncio.locks.Condition object [unlocked, waiters:1]>\n"
            "4: B predicate=1 took y\n");
}


// ---- Semaphore, BoundedSemaphore ---------------------------------------------------

asyncio::Coro<void> sem_user(Ticker& tk, asyncio::Semaphore& sem, std::string name, int hold = 1) {
  try {
    auto guard = co_await sem;
    say(tk, name + " acquired " + r(sem));
    for (int i = 0; i < hold; ++i) co_await asyncio::sleep(0);
  } catch (const asyncio::CancelledError&) {
    say(tk, name + " cancelled");
    throw;
  }
}

asyncio::Coro<void> sem_fifo() {
  Ticker tk;
  asyncio::Semaphore sem(2);
  say(tk, r(sem));
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B", "C", "D", "E"}) ts.push_back(asyncio::create_task(sem_user(tk, sem, n, 2)));
  co_await asyncio::sleep(0);
  say(tk, r(sem));
  co_await scenario::wait_all(ts);
  say(tk, r(sem));
  tk.stop();
}

TEST(Semaphore, AdmitsValueHoldersAtOnceAndTheRestInArrivalOrder) {
  EXPECT_EQ(scenario::run(sem_fifo()),
            "0: <asyncio.locks.Semaphore object [unlocked, value:2]>\n"
            "1: A acquired <asyncio.locks.Semaphore object [unlocked, value:1]>\n"
            "1: B acquired <asyncio.locks.Semaphore object [locked]>\n"
            "1: <asyncio.locks.Semaphore object [locked, waiters:3]>\n"
            "4: C acquired <asyncio.locks.Semaphore object [locked, waiters:2]>\n"
            "4: D acquired <asyncio.locks.Semaphore object [locked, waiters:1]>\n"
            "7: E acquired <asyncio.locks.Semaphore object [unlocked, value:1]>\n"
            "10: <asyncio.locks.Semaphore object [unlocked, value:2]>\n");
}

asyncio::Coro<void> sem_cancel_waiting() {
  Ticker tk;
  asyncio::Semaphore sem(0);
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B", "C"}) ts.push_back(asyncio::create_task(sem_user(tk, sem, n)));
  co_await asyncio::sleep(0);
  ts[0].cancel();
  co_await asyncio::sleep(0);
  say(tk, r(sem));
  sem.release();
  say(tk, r(sem));
  co_await scenario::wait_all(ts);
  say(tk, r(sem));
  tk.stop();
}

TEST(Semaphore, WaiterCancelledWhileWaitingTakesNoPermit) {
  EXPECT_EQ(scenario::run(sem_cancel_waiting()),
            "2: A cancelled\n"
            "2: <asyncio.locks.Semaphore object [locked, waiters:2]>\n"
            "2: <asyncio.locks.Semaphore object [locked, waiters:2]>\n"
            "3: B acquired <asyncio.locks.Semaphore object [locked, waiters:1]>\n"
            "5: C acquired <asyncio.locks.Semaphore object [locked]>\n"
            "7: <asyncio.locks.Semaphore object [unlocked, value:1]>\n");
}

asyncio::Coro<void> sem_cancel_at_wakeup() {
  Ticker tk;
  asyncio::Semaphore sem(0);
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B", "C"}) ts.push_back(asyncio::create_task(sem_user(tk, sem, n)));
  co_await asyncio::sleep(0);
  sem.release();   // A is handed the permit
  say(tk, r(sem));
  ts[0].cancel();  // A is cancelled at the moment of its wake-up: the permit goes on
  ts.push_back(asyncio::create_task(sem_user(tk, sem, "D")));  // cannot take it first
  co_await scenario::wait_all(ts);
  say(tk, r(sem) + " A.cancelled=" + tf(ts[0].cancelled()));
  tk.stop();
}

TEST(Semaphore, WaiterCancelledAtTheMomentOfWakeUpPassesItsPermitOn) {
  EXPECT_EQ(scenario::run(sem_cancel_at_wakeup()),
            "1: <asyncio.locks.Semaphore object [locked, waiters:3]>\n"
            "2: A cancelled\n"
            "3: B acquired <asyncio.locks.Semaphore object [locked, waiters:2]>\n"
            "5: C acquired <asyncio.locks.Semaphore object [locked, waiters:1]>\n"
            "7: D acquired <asyncio.locks.Semaphore object [locked]>\n"
            "9: <asyncio.locks.Semaphore object [unlocked, value:1]> A.cancelled=True\n");
}

asyncio::Coro<void> sem_release_many() {
  Ticker tk;
  asyncio::Semaphore sem(0);
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B", "C"}) ts.push_back(asyncio::create_task(sem_user(tk, sem, n)));
  co_await asyncio::sleep(0);
  sem.release();
  sem.release();
  say(tk, r(sem));
  co_await scenario::wait_all(std::vector<asyncio::Task<void>>(ts.begin(), ts.begin() + 2));
  say(tk, r(sem));
  sem.release();
  co_await scenario::wait_all(ts);
  say(tk, r(sem));
  tk.stop();
}

TEST(Semaphore, EachReleaseHandsOnePermitToTheNextWaiter) {
  EXPECT_EQ(scenario::run(sem_release_many()),
            "1: <asyncio.locks.Semaphore object [locked, waiters:3]>\n"
            "2: A acquired <asyncio.locks.Semaphore object [locked, waiters:2]>\n"
            "2: B acquired <asyncio.locks.Semaphore object [locked, waiters:1]>\n"
            "4: C acquired <asyncio.locks.Semaphore object [unlocked, value:1]>\n"
            "4: <asyncio.locks.Semaphore object [unlocked, value:1]>\n"
            "6: <asyncio.locks.Semaphore object [unlocked, value:3]>\n");
}

asyncio::Coro<void> sem_bounded() {
  asyncio::BoundedSemaphore b(2);
  co_await b.acquire();
  note(r(b));
  b.release();
  try {
    b.release();
  } catch (const asyncio::ValueError& e) {
    note(std::string("ValueError: ") + e.what());
  }
  note(r(b));
  try {
    asyncio::Semaphore s(-1);
  } catch (const asyncio::ValueError& e) {
    note(std::string("ValueError: ") + e.what());
  }
  {
    auto guard = co_await b;  // the guard releases through BoundedSemaphore::release
    note(r(b));
  }
  note(r(b));
}

TEST(BoundedSemaphore, ReleaseAboveTheInitialValueThrowsValueError) {
  EXPECT_EQ(scenario::run(sem_bounded()),
            "<asyncio.locks.BoundedSemaphore object [unlocked, value:1]>\n"
            "ValueError: BoundedSemaphore released too many times\n"
            "<asyncio.locks.BoundedSemaphore object [unlocked, value:2]>\n"
            "ValueError: Semaphore initial value must be >= 0\n"
            "<asyncio.locks.BoundedSemaphore object [unlocked, value:1]>\n"
            "<asyncio.locks.BoundedSemaphore object [unlocked, value:2]>\n");
}


// ---- Barrier -----------------------------------------------------------------------

asyncio::Coro<void> barrier_user(Ticker& tk, asyncio::Barrier& b, std::string name, int rounds = 1) {
  try {
    for (int i = 0; i < rounds; ++i) {
      std::size_t idx = co_await b.wait();
      say(tk, name + " passed round " + std::to_string(i) + " index " + std::to_string(idx));
    }
  } catch (const asyncio::BrokenBarrierError& e) {
    say(tk, name + " BrokenBarrierError: " + e.what());
  } catch (const asyncio::CancelledError&) {
    say(tk, name + " cancelled " + r(b));
    throw;
  }
}

asyncio::Coro<void> barrier_reuse() {
  Ticker tk;
  asyncio::Barrier b(3);
  say(tk, r(b));
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B", "C"}) ts.push_back(asyncio::create_task(barrier_user(tk, b, n, 2)));
  co_await asyncio::sleep(0);
  say(tk, r(b));
  co_await asyncio::sleep(0);
  say(tk, r(b));
  co_await scenario::wait_all(ts);
  say(tk, r(b));
  tk.stop();
}

TEST(Barrier, LastArrivalReleasesEveryoneAndTheBarrierIsReusedNextRound) {
  EXPECT_EQ(scenario::run(barrier_reuse()),
            "0: <asyncio.locks.Barrier object [filling, waiters:0/3]>\n"
            "1: C passed round 0 index 2\n"
            "1: <asyncio.locks.Barrier object [draining, waiters:0/3]>\n"
            "2: A passed round 0 index 0\n"
            "2: B passed round 0 index 1\n"
            "2: <asyncio.locks.Barrier object [filling, waiters:1/3]>\n"
            "3: A passed round 1 index 2\n"
            "4: B passed round 1 index 0\n"
            "4: C passed round 1 index 1\n"
            "4: <asyncio.locks.Barrier object [filling, waiters:0/3]>\n");
}

asyncio::Coro<void> barrier_abort_and_reset() {
  Ticker tk;
  asyncio::Barrier b(3);
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B"}) ts.push_back(asyncio::create_task(barrier_user(tk, b, n)));
  co_await asyncio::sleep(0);
  say(tk, r(b));
  co_await b.abort();
  say(tk, r(b) + " broken=" + tf(b.broken()));
  co_await scenario::wait_all(ts);
  try {
    co_await b.wait();
  } catch (const asyncio::BrokenBarrierError& e) {
    say(tk, std::string("main BrokenBarrierError: ") + e.what());
  }
  co_await b.reset();
  say(tk, r(b));
  ts.clear();
  for (auto n : {"C", "D"}) ts.push_back(asyncio::create_task(barrier_user(tk, b, n)));
  co_await asyncio::sleep(0);
  say(tk, r(b));
  co_await b.reset();
  say(tk, r(b));
  co_await scenario::wait_all(ts);
  say(tk, r(b));
  ts.clear();
  for (auto n : {"E", "F", "G"}) ts.push_back(asyncio::create_task(barrier_user(tk, b, n)));
  co_await scenario::wait_all(ts);
  say(tk, r(b) + " parties=" + std::to_string(b.parties()) + " n_waiting=" + std::to_string(b.n_waiting()));
  tk.stop();
}

TEST(Barrier, AbortBreaksWaitersAndLaterCallersUntilResetWhichAlsoBreaksWaiters) {
  EXPECT_EQ(scenario::run(barrier_abort_and_reset()),
            "1: <asyncio.locks.Barrier object [filling, waiters:2/3]>\n"
            "1: <asyncio.locks.Barrier object [broken]> broken=True\n"
            "2: A BrokenBarrierError: Abort or reset of barrier\n"
            "2: B BrokenBarrierError: Abort or reset of barrier\n"
            "3: main BrokenBarrierError: Barrier aborted\n"
            "3: <asyncio.locks.Barrier object [filling, waiters:0/3]>\n"
            "4: <asyncio.locks.Barrier object [filling, waiters:2/3]>\n"
            "4: <asyncio.locks.Barrier object [resetting, waiters:0/3]>\n"
            "5: C BrokenBarrierError: Abort or reset of barrier\n"
            "5: D BrokenBarrierError: Abort or reset of barrier\n"
            "6: <asyncio.locks.Barrier object [filling, waiters:0/3]>\n"
            "7: G passed round 0 index 2\n"
            "8: E passed round 0 index 0\n"
            "8: F passed round 0 index 1\n"
            "9: <asyncio.locks.Barrier object [filling, waiters:0/3]> parties=3 n_waiting=0\n");
}

asyncio::Coro<void> barrier_cancel_waiting() {
  Ticker tk;
  asyncio::Barrier b(2);
  std::vector<asyncio::Task<void>> ts;
  ts.push_back(asyncio::create_task(barrier_user(tk, b, "A")));
  co_await asyncio::sleep(0);
  ts[0].cancel();
  co_await scenario::wait_all(ts);
  say(tk, r(b));
  ts.clear();
  for (auto n : {"B", "C"}) ts.push_back(asyncio::create_task(barrier_user(tk, b, n)));
  co_await scenario::wait_all(ts);
  say(tk, r(b));
  try {
    asyncio::Barrier zero(0);
  } catch (const asyncio::ValueError& e) {
    say(tk, std::string("ValueError: ") + e.what());
  }
  tk.stop();
}

TEST(Barrier, WaiterCancelledWhileWaitingLeavesTheCountAsItWas) {
  EXPECT_EQ(scenario::run(barrier_cancel_waiting()),
            "2: A cancelled <asyncio.locks.Barrier object [filling, waiters:0/2]>\n"
            "3: <asyncio.locks.Barrier object [filling, waiters:0/2]>\n"
            "4: C passed round 0 index 1\n"
            "5: B passed round 0 index 0\n"
            "6: <asyncio.locks.Barrier object [filling, waiters:0/2]>\n"
            "6: ValueError: parties must be > 0\n");
}

}  // namespace
