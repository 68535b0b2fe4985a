// Tests of locks.hpp: Lock, Event, Condition, Semaphore, BoundedSemaphore,
// Barrier. The scenario tests compare a log with loop-iteration numbers to the
// one printed by the same program on CPython's asyncio.locks: the Python twin
// of scenario X is tests/python/test_locks/X.py, and the log it prints is
// X.out, which the test reads (scenario::expected). `make twins` reruns the
// twins on CPython (3.11, or the version a twin names) and checks each prints
// its .out exactly; ctest does the same (test `python_twins`).
#include "asyncio/locks.hpp"
#include "asyncio/queues.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/tasks_combinators.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

#include "scenario.hpp"
#include "support.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using testing::ElementsAre;
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
  EXPECT_EQ(scenario::run(lock_fifo()), scenario::expected("test_locks/lock_fifo"));
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
  EXPECT_EQ(scenario::run(lock_cancel_waiting()), scenario::expected("test_locks/lock_cancel_waiting"));
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
  EXPECT_EQ(scenario::run(lock_cancel_at_wakeup()), scenario::expected("test_locks/lock_cancel_at_wakeup"));
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
  EXPECT_EQ(scenario::run(event_basic()), scenario::expected("test_locks/event_basic"));
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
  EXPECT_EQ(scenario::run(event_cancel_at_wakeup()), scenario::expected("test_locks/event_cancel_at_wakeup"));
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
  EXPECT_EQ(scenario::run(cond_notify_counts()), scenario::expected("test_locks/cond_notify_counts"));
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
  EXPECT_EQ(scenario::run(cond_cancel_while_waiting()), scenario::expected("test_locks/cond_cancel_while_waiting"));
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
  EXPECT_EQ(scenario::run(cond_cancel_at_notify()), scenario::expected("test_locks/cond_cancel_at_notify"));
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
  EXPECT_EQ(scenario::run(cond_misuse()), scenario::expected("test_locks/cond_misuse"));
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
  EXPECT_EQ(scenario::run(cond_shared_lock_and_wait_for()), scenario::expected("test_locks/cond_shared_lock_and_wait_for"));
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
  EXPECT_EQ(scenario::run(sem_fifo()), scenario::expected("test_locks/sem_fifo"));
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
  EXPECT_EQ(scenario::run(sem_cancel_waiting()), scenario::expected("test_locks/sem_cancel_waiting"));
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
  EXPECT_EQ(scenario::run(sem_cancel_at_wakeup()), scenario::expected("test_locks/sem_cancel_at_wakeup"));
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
  EXPECT_EQ(scenario::run(sem_release_many()), scenario::expected("test_locks/sem_release_many"));
}

// A burst of releases wakes several waiters before any resumes; the next
// release skips them (and waiters cancelled since) without walking them again.
asyncio::Coro<void> sem_release_burst() {
  Ticker tk;
  asyncio::Semaphore sem(0);
  std::vector<asyncio::Task<void>> ts;
  for (auto n : {"A", "B", "C", "D", "E", "F"}) ts.push_back(asyncio::create_task(sem_user(tk, sem, n)));
  co_await asyncio::sleep(0);
  for (int i = 0; i < 3; ++i) sem.release();  // A, B and C woken in one burst, none resumed yet
  say(tk, r(sem));
  ts[1].cancel();  // B, woken: its permit goes on to the next waiter not woken
  ts[3].cancel();  // D, the next waiter not woken: cancelled while waiting
  ts.push_back(asyncio::create_task(sem_user(tk, sem, "G")));  // queues behind F
  co_await asyncio::sleep(0);
  say(tk, r(sem));
  sem.release();
  sem.release();
  say(tk, r(sem));
  co_await scenario::wait_all(ts);
  say(tk, r(sem) + " B.cancelled=" + tf(ts[1].cancelled()) + " D.cancelled=" + tf(ts[3].cancelled()));
  tk.stop();
}

TEST(Semaphore, ABurstOfReleasesWakesWaitersInOrderPastCancelledOnes) {
  EXPECT_EQ(scenario::run(sem_release_burst()), scenario::expected("test_locks/sem_release_burst"));
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
  EXPECT_EQ(scenario::run(sem_bounded()), scenario::expected("test_locks/sem_bounded"));
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
  EXPECT_EQ(scenario::run(barrier_reuse()), scenario::expected("test_locks/barrier_reuse"));
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
  EXPECT_EQ(scenario::run(barrier_abort_and_reset()), scenario::expected("test_locks/barrier_abort_and_reset"));
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
  EXPECT_EQ(scenario::run(barrier_cancel_waiting()), scenario::expected("test_locks/barrier_cancel_waiting"));
}


// ---- properties, guards, lifetime --------------------------------------------------

asyncio::Coro<void> contender(asyncio::Lock& lock, int& count, int& holders, int& max_holders) {
  auto guard = co_await lock;
  max_holders = std::max(max_holders, ++holders);
  int v = count;
  co_await asyncio::sleep(0);  // the read-modify-write spans a suspension
  count = v + 1;
  --holders;
}

asyncio::Coro<void> ten_thousand_contenders(int& count, int& max_holders) {
  asyncio::Lock lock;
  int holders = 0;
  std::vector<asyncio::Task<void>> ts;
  for (int i = 0; i < 10000; ++i) ts.push_back(asyncio::create_task(contender(lock, count, holders, max_holders)));
  co_await scenario::wait_all(ts);
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(lock.waiters(), 0u);
}

TEST(Lock, TenThousandTasksContendingEndWithTheRightCount) {
  int count = 0, max_holders = 0;
  scenario::run(ten_thousand_contenders(count, max_holders));
  EXPECT_EQ(count, 10000);
  EXPECT_EQ(max_holders, 1);
}

/// A deterministic pseudo-random sequence (the tests need no real randomness).
struct Lcg {
  std::uint64_t x;
  unsigned next(unsigned n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<unsigned>((x >> 33) % n);
  }
};

template <class Sem>
asyncio::Coro<void> permit_user(Sem& sem, int& holders, int& max_holders, Lcg& rng, int& completed) {
  for (int i = 0; i < 20; ++i) {
    auto guard = co_await sem;
    max_holders = std::max(max_holders, ++holders);
    struct Leave {
      int& h;
      ~Leave() { --h; }
    } leave{holders};  // also when cancelled while holding
    co_await asyncio::sleep(std::chrono::milliseconds(rng.next(3)));
    ++completed;
  }
}

asyncio::Coro<void> canceller(std::vector<asyncio::Task<void>>& ts, Lcg& rng) {
  for (int i = 0; i < 200; ++i) {
    co_await asyncio::sleep(std::chrono::microseconds(rng.next(1500)));
    ts[rng.next(static_cast<unsigned>(ts.size()))].cancel();
  }
}

asyncio::Coro<void> random_cancellations_keep_every_permit(int& max_holders, int& completed) {
  asyncio::Semaphore sem(3);
  asyncio::Lock lock;
  Lcg rng{42};
  int holders = 0, lock_holders = 0, lock_max = 0;
  std::vector<asyncio::Task<void>> ts;
  for (int i = 0; i < 50; ++i) {
    ts.push_back(asyncio::create_task(permit_user(sem, holders, max_holders, rng, completed)));
    ts.push_back(asyncio::create_task(permit_user(lock, lock_holders, lock_max, rng, completed)));
  }
  auto c = asyncio::create_task(canceller(ts, rng));
  co_await c;
  co_await scenario::wait_all(ts);
  int cancelled = 0;
  for (auto& t : ts) cancelled += t.cancelled() ? 1 : 0;
  EXPECT_GT(cancelled, 20);  // the canceller did hit waiters
  EXPECT_EQ(sem.value(), 3) << r(sem);
  EXPECT_FALSE(sem.locked());
  EXPECT_EQ(sem.waiters(), 0u);
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(lock.waiters(), 0u);
  EXPECT_EQ(lock_max, 1);
  // Both still work: nothing is stuck.
  for (int i = 0; i < 3; ++i) co_await sem.acquire();
  EXPECT_TRUE(sem.locked());
  for (int i = 0; i < 3; ++i) sem.release();
  auto g = co_await lock;
}

TEST(Semaphore, RandomCancellationsLoseNoPermitAndLeaveNoWaiterStuck) {
  int max_holders = 0, completed = 0;
  scenario::run(random_cancellations_keep_every_permit(max_holders, completed));
  EXPECT_LE(max_holders, 3);
  EXPECT_GT(completed, 100);
}

asyncio::Coro<void> guards() {
  asyncio::Lock lock;
  {
    auto g = co_await lock;
    EXPECT_TRUE(g.owns_lock());
    auto moved = std::move(g);
    EXPECT_FALSE(g.owns_lock());
    EXPECT_TRUE(lock.locked());
    moved.release();  // leaves the `async with` block early
    EXPECT_FALSE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
  // Released behind the guard's back: the guard's release fails, and being in a
  // destructor it reports the RuntimeError instead of throwing.
  std::vector<std::string> reported;
  asyncio::get_running_loop().set_exception_handler(
      [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
        reported.push_back(c.message + ": " + asyncio::exception_message(c.exception));
      });
  {
    auto g = co_await lock;
    lock.release();
  }
  EXPECT_EQ(reported, std::vector<std::string>{
                          "LockGuard: release at the end of the scope failed: Lock is not acquired."});
  asyncio::get_running_loop().set_exception_handler(nullptr);
  asyncio::Condition cond;
  {
    auto g = co_await cond;
    EXPECT_TRUE(cond.locked());
  }
  EXPECT_FALSE(cond.locked());
  asyncio::Semaphore sem(1);
  {
    auto g = co_await sem;
    EXPECT_TRUE(sem.locked());
  }
  EXPECT_FALSE(sem.locked());
  EXPECT_TRUE(co_await lock.acquire());
  EXPECT_TRUE(co_await sem.acquire());
}

TEST(LockGuard, ReleasesAtScopeExitOrEarlyAndMovesOwnership) { scenario::run(guards()); }

asyncio::Coro<void> guard_released_by_exception(asyncio::Lock& lock) {
  auto g = co_await lock;
  co_await asyncio::sleep(0);
  throw std::runtime_error("boom");
}

asyncio::Coro<void> guard_and_exceptions() {
  asyncio::Lock lock;
  try {
    co_await guard_released_by_exception(lock);
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(lock.locked());
  auto t = asyncio::create_task(guard_released_by_exception(lock));
  co_await asyncio::sleep(0);
  EXPECT_TRUE(lock.locked());
  t.cancel();
  try {
    co_await t;
  } catch (const asyncio::CancelledError&) {
  }
  EXPECT_FALSE(lock.locked());  // async with releases on cancellation too
}

TEST(LockGuard, ReleasesWhenTheBlockEndsByAnExceptionOrACancellation) {
  scenario::run(guard_and_exceptions());
}

asyncio::Coro<void> event_owner_dies() {
  auto ev = std::make_unique<asyncio::Event>();
  auto waiter = [](asyncio::Event& e) -> asyncio::Coro<std::string> {
    try {
      co_await e.wait();
    } catch (const asyncio::RuntimeError& err) {
      co_return err.what();
    }
    co_return "woken";
  };
  auto t = asyncio::create_task(waiter(*ev));
  co_await asyncio::sleep(0);
  ev.reset();  // destroyed while t waits on it
  EXPECT_EQ(co_await t, "asyncio::Event destroyed while a task was waiting on it");
}

TEST(Event, DestroyedWhileATaskWaitsGivesThatTaskRuntimeError) { scenario::run(event_owner_dies()); }

TEST(Locks, PrintLikeAsyncioReprsWithTheirAddress) {
  asyncio::Lock lock;
  std::ostringstream os;
  os << lock;
  EXPECT_TRUE(std::regex_match(os.str(), std::regex(R"(<asyncio\.locks\.Lock object at 0x[0-9a-f]+ \[unlocked\]>)")))
      << os.str();
}

TEST(Locks, ExceptionsHaveTheirPythonNames) {
  EXPECT_EQ(asyncio::exception_type_name(std::make_exception_ptr(asyncio::ValueError("x"))), "ValueError");
  EXPECT_EQ(asyncio::exception_type_name(std::make_exception_ptr(asyncio::BrokenBarrierError("x"))),
            "BrokenBarrierError");
  EXPECT_EQ(asyncio::exception_repr(std::make_exception_ptr(asyncio::BrokenBarrierError("Barrier aborted"))),
            "BrokenBarrierError('Barrier aborted')");
}

TEST(Locks, ConstructorsRejectBadValuesWithValueError) {
  EXPECT_THROW(asyncio::Semaphore(-1), asyncio::ValueError);
  EXPECT_THROW(asyncio::BoundedSemaphore(-1), asyncio::ValueError);
  EXPECT_THROW(asyncio::Barrier(0), asyncio::ValueError);
  EXPECT_NO_THROW(asyncio::Semaphore(0));
}


asyncio::Coro<void> acquire_and_release(asyncio::Lock& lock) {
  co_await lock.acquire();
  lock.release();
}

asyncio::Coro<void> hold_and_let_one_wait(asyncio::Lock& lock) {
  co_await lock.acquire();
  auto t = asyncio::create_task(acquire_and_release(lock));  // waits: binds the lock to this loop
  co_await asyncio::sleep(0);
  lock.release();
  co_await t;
}

asyncio::Coro<void> wait_from_another_loop(asyncio::Lock& lock, std::string& msg) {
  co_await lock.acquire();  // the fast path binds nothing
  try {
    co_await lock.acquire();
    msg = "no error";
  } catch (const asyncio::RuntimeError& e) {
    msg = std::regex_replace(e.what(), std::regex("0x[0-9a-f]+"), "0x...");
  }
}

TEST(Lock, WaitingFromAnotherLoopThanTheFirstWaiterRaisesRuntimeError) {
  // Python: the same program prints
  // "<asyncio.locks.Lock object at 0x... [locked]> is bound to a different event loop"
  asyncio::Lock lock;
  scenario::run(hold_and_let_one_wait(lock));
  std::string msg;
  scenario::run(wait_from_another_loop(lock, msg));  // a new loop, maybe at the same address
  EXPECT_EQ(msg, "<asyncio.locks.Lock object at 0x... [locked]> is bound to a different event loop");
}


asyncio::Coro<void> acquire_under_wait_for() {
  asyncio::Lock lock;
  co_await lock.acquire();
  bool timed_out = false;
  try {
    co_await asyncio::wait_for(lock.acquire(), 10ms);
  } catch (const asyncio::TimeoutError&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(lock.waiters(), 0u);
  lock.release();
  EXPECT_TRUE(co_await asyncio::wait_for(lock.acquire(), 10ms));
  asyncio::Event ev;
  EXPECT_THROW(co_await asyncio::wait_for(ev.wait(), 10ms), asyncio::TimeoutError);
  EXPECT_EQ(ev.waiters(), 0u);
}

TEST(Lock, AcquireUnderWaitForTimesOutAndLeavesTheLockUsable) { scenario::run(acquire_under_wait_for()); }

// Python (3.11-3.13): `async with barrier as pos:` waits on entry and gives the
// arrival index:
//
//   async def main():
//       b = asyncio.Barrier(2)
//       async def w(i):
//           async with b as pos:
//               print(i, pos)
//       await asyncio.gather(w(1), w(2))
//
// prints "2 1" then "1 0" (the last to arrive passes first).
TEST(Barrier, CoAwaitTheBarrierIsAsyncWith) {
  std::vector<std::string> out;
  scenario::run([&]() -> asyncio::Coro<> {
    asyncio::Barrier b(2);
    auto w = [&](int i) -> asyncio::Coro<> {
      std::size_t pos = co_await b;
      out.push_back(std::to_string(i) + " " + std::to_string(pos));
    };
    co_await asyncio::gather(w(1), w(2));
  }());
  EXPECT_EQ(out, (std::vector<std::string>{"2 1", "1 0"}));
}

// Issue 8, defect 12: the bound held only when release() was called on a
// BoundedSemaphore, not through a Semaphore& (Python dispatches dynamically):
//   b = asyncio.BoundedSemaphore(1); s: asyncio.Semaphore = b
//   s.release()   # ValueError: BoundedSemaphore released too many times
TEST(BoundedSemaphore, TheBoundHoldsThroughASemaphoreReference) {
  std::vector<std::string> got;
  test::run_virtual([&]() -> asyncio::Coro<> {
    asyncio::BoundedSemaphore b(1);
    asyncio::Semaphore& s = b;
    try {
      s.release();
    } catch (const asyncio::ValueError& e) {
      got.push_back(e.what());
    }
    {
      auto guard = co_await s;  // a LockGuard<Semaphore> on the bounded one
      got.push_back("value " + std::to_string(b.value()));
    }
    got.push_back("value " + std::to_string(b.value()));
    co_return;
  }());
  EXPECT_THAT(got, ElementsAre("BoundedSemaphore released too many times", "value 0", "value 1"));
  test::expect_no_frames();
}

// Issue 8, defect 13: an Event waited on by a task of one loop and set by a
// task of another loop running at the same time on another thread raced on
// the waiters. Misuse must raise (CPython: "... is bound to a different event
// loop"); the waiting loop is then woken the right way.
TEST(Event, SetFromALoopRunningOnAnotherThreadRaisesInsteadOfRacing) {
  asyncio::Event ev;
  std::atomic<bool> waiting{false};
  std::string error;
  asyncio::EventLoop* waiting_loop = nullptr;
  std::thread other([&] {
    while (!waiting.load()) std::this_thread::yield();
    asyncio::run([&]() -> asyncio::Coro<> {
      try {
        ev.set();
      } catch (const asyncio::RuntimeError& e) {
        error = e.what();
      }
      waiting_loop->call_soon_threadsafe([&] { ev.set(); });
      co_return;
    }());
  });
  bool woke = test::run_real("event bound to one loop", [&]() -> asyncio::Coro<bool> {
    waiting_loop = &asyncio::get_running_loop();
    asyncio::get_running_loop().call_soon([&] { waiting = true; });
    co_return co_await ev.wait();
  }());
  other.join();
  EXPECT_TRUE(woke);
  // The repr without its state, which belongs to the other thread's loop.
  EXPECT_THAT(error, testing::MatchesRegex("<asyncio::Event object at 0x[0-9a-f]+> is bound to a different event loop"));
  test::expect_no_frames();
}

// Two loops on two threads waiting on one Event: exactly one binds it, the
// other gets the error (the binding is atomic).
TEST(Event, TwoLoopsWaitingAtOnceOneBindsTheOtherRaises) {
  for (int round = 0; round < 50; ++round) {
    asyncio::Event ev;
    std::atomic<int> errors{0}, ready{0};
    auto contender = [&] {
      asyncio::run([&]() -> asyncio::Coro<> {
        ready.fetch_add(1);
        while (ready.load() < 2) std::this_thread::yield();
        try {
          co_await asyncio::wait_for(ev.wait(), 0.01);
        } catch (const asyncio::RuntimeError&) {
          errors.fetch_add(1);
        } catch (const asyncio::TimeoutError&) {
        }
      }());
    };
    std::thread a(contender), b(contender);
    a.join();
    b.join();
    ASSERT_EQ(errors.load(), 1);
  }
  test::expect_no_frames();
}

// Issue 8, defect 13, the other operations that wake waiters: Lock.release,
// Semaphore.release, Condition.notify and the queue's put_nowait/get_nowait/
// shutdown, called from a loop on another thread while the loop the primitive
// is bound to runs, raise instead of racing on its waiters.
TEST(Primitives, WakingFromALoopRunningOnAnotherThreadRaisesInsteadOfRacing) {
  asyncio::Lock lock;
  asyncio::Semaphore sem(0);
  asyncio::Condition cond;
  asyncio::Queue<int> q;
  std::atomic<bool> bound{false};
  std::vector<std::string> errors;
  asyncio::EventLoop* bound_loop = nullptr;
  std::thread other([&] {
    while (!bound.load()) std::this_thread::yield();
    asyncio::run([&]() -> asyncio::Coro<> {
      auto attempt = [&](const char* what, auto&& op) {
        try {
          op();
          errors.push_back(std::string(what) + ": no error");
        } catch (const asyncio::RuntimeError& e) {
          std::string m = e.what();
          errors.push_back(std::string(what) + ": " + m);
        }
      };
      attempt("Lock.release", [&] { lock.release(); });
      attempt("Semaphore.release", [&] { sem.release(); });
      attempt("Condition.notify", [&] { cond.notify(); });
      attempt("Queue.put_nowait", [&] { q.put_nowait(1); });
      attempt("Queue.get_nowait", [&] { (void)q.get_nowait(); });
      attempt("Queue.shutdown", [&] { q.shutdown(); });
      // The right way: hand the work to the loop the primitives belong to.
      bound_loop->call_soon_threadsafe([&] {
        lock.release();
        sem.release();
        q.put_nowait(7);
      });
      co_return;
    }());
  });
  std::vector<std::string> got = test::run_real("primitives bound to one loop", [&]() -> asyncio::Coro<std::vector<std::string>> {
    bound_loop = &asyncio::get_running_loop();
    co_await lock.acquire();
    std::vector<std::string> log;
    // Named lambdas: a coroutine lambda's captures live in the lambda object,
    // which must outlive the task.
    auto wait_lock = [&]() -> asyncio::Coro<> {
      co_await lock.acquire();  // binds the lock
      log.push_back("lock acquired");
      lock.release();
    };
    auto wait_sem = [&]() -> asyncio::Coro<> {
      co_await sem.acquire();  // binds the semaphore
      log.push_back("semaphore acquired");
    };
    auto wait_cond = [&]() -> asyncio::Coro<> {
      auto guard = co_await cond;
      co_await asyncio::wait_for(cond.wait(), 0.01);  // binds the condition; timed out, no notify
    };
    auto wait_queue = [&]() -> asyncio::Coro<> {
      log.push_back("got " + std::to_string(co_await q.get()));  // binds the queue
    };
    auto lock_waiter = asyncio::create_task(wait_lock());
    auto sem_waiter = asyncio::create_task(wait_sem());
    auto cond_waiter = asyncio::create_task(wait_cond());
    auto queue_waiter = asyncio::create_task(wait_queue());
    co_await asyncio::sleep(0);
    try {
      co_await cond_waiter;
    } catch (const asyncio::TimeoutError&) {
      log.push_back("condition wait timed out");
    }
    asyncio::get_running_loop().call_soon([&] { bound = true; });
    co_await lock_waiter;
    co_await sem_waiter;
    co_await queue_waiter;
    co_return log;
  }());
  other.join();
  // The reprs without their state, which belongs to the other thread's loop.
  using testing::MatchesRegex;
  const std::string tail = " object at 0x[0-9a-f]+> is bound to a different event loop";
  EXPECT_THAT(errors, ElementsAre(MatchesRegex("Lock.release: <asyncio::Lock" + tail),
                                  MatchesRegex("Semaphore.release: <asyncio::Semaphore" + tail),
                                  MatchesRegex("Condition.notify: <asyncio::Condition" + tail),
                                  MatchesRegex("Queue.put_nowait: <asyncio::Queue" + tail),
                                  MatchesRegex("Queue.get_nowait: <asyncio::Queue" + tail),
                                  MatchesRegex("Queue.shutdown: <asyncio::Queue" + tail)));
  EXPECT_THAT(got, ElementsAre("condition wait timed out", "lock acquired", "semaphore acquired", "got 7"));
  test::expect_no_frames();
}

// As in CPython, a primitive that served one loop can be used by the next one
// on the same thread: only waiting checks the binding there, and release,
// put, get and set do not raise. Twin (prints "1", then the "ok" line):
//   lock, sem, q, ev = asyncio.Lock(), asyncio.Semaphore(0), asyncio.Queue(), asyncio.Event()
//   async def bind():
//       for aw in (sem.acquire(), q.get(), ev.wait()):
//           try: await asyncio.wait_for(aw, 0.01)
//           except asyncio.TimeoutError: pass
//       await lock.acquire()
//       t = asyncio.ensure_future(lock.acquire()); await asyncio.sleep(0); t.cancel()
//       try: await t
//       except asyncio.CancelledError: pass
//   asyncio.run(bind())
//   async def use():
//       lock.release(); sem.release(); q.put_nowait(1); print(q.get_nowait()); ev.set()
//       print("second loop: release/put/get/set ok")
//   asyncio.run(use())
TEST(Primitives, UsedByOneLoopAfterAnotherOnOneThreadLikeCPython) {
  asyncio::Lock lock;
  asyncio::Semaphore sem(0);
  asyncio::Queue<int> q;
  asyncio::Event ev;
  asyncio::run([&]() -> asyncio::Coro<> {
    try {
      co_await asyncio::wait_for(sem.acquire(), 0.01);
    } catch (const asyncio::TimeoutError&) {
    }
    try {
      co_await asyncio::wait_for(q.get(), 0.01);
    } catch (const asyncio::TimeoutError&) {
    }
    try {
      co_await asyncio::wait_for(ev.wait(), 0.01);
    } catch (const asyncio::TimeoutError&) {
    }
    co_await lock.acquire();
    auto t = asyncio::create_task(lock.acquire());
    co_await asyncio::sleep(0);
    t.cancel();
    try {
      co_await t;
    } catch (const asyncio::CancelledError&) {
    }
  }());
  std::vector<std::string> log;
  asyncio::run([&]() -> asyncio::Coro<> {
    lock.release();
    sem.release();
    q.put_nowait(1);
    log.push_back(std::to_string(q.get_nowait()));
    ev.set();
    log.push_back("second loop: release/put/get/set ok");
    co_return;
  }());
  EXPECT_THAT(log, ElementsAre("1", "second loop: release/put/get/set ok"));
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(sem.value(), 1);
  EXPECT_TRUE(ev.is_set());
  test::expect_no_frames();
}

}  // namespace
