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

}  // namespace
