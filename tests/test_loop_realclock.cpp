// The loop's own mechanics on the real clock (events.hpp): waiting for timers,
// waking from other threads, computing and sleeping in turns. Each scenario
// runs under a watchdog (tests/watchdog.hpp), so a hang fails the test instead
// of stalling CI. Nothing here asserts a duration: only that the loop gets
// through, in the right order, with nothing left behind. Timing semantics are
// tested in virtual time elsewhere.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <uv.h>

#include "asyncio/events.hpp"
#include "asyncio/executors.hpp"
#include "asyncio/queues.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/tasks_combinators.hpp"
#include "support.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;

namespace {

/// Keeps the thread busy (the loop cannot run) for `d` of real time.
void compute_for(std::chrono::nanoseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

// Issue 8, defect 1: a step that keeps the loop busy longer than the delay to
// the next timer left libuv's cached clock stale; the wake-up timer armed
// against it was already due, fired before the poll, and the poll then
// blocked forever. The Python twin runs to its end:
//   async def main():
//       for i in range(200):
//           t = time.monotonic() + (2 + i % 19) / 1000
//           while time.monotonic() < t: pass
//           await asyncio.sleep((1 + i % 10) / 1000)
TEST(RealClock, ComputingThenSleepingInTurnsNeverHangs) {
  int turns = 0;
  test::run_real("compute then sleep", [&]() -> asyncio::Coro<> {
    for (int i = 0; i < 200; ++i) {
      compute_for(std::chrono::milliseconds(2 + i % 19));
      co_await asyncio::sleep(std::chrono::milliseconds(1 + i % 10));
      ++turns;
    }
  }());
  EXPECT_EQ(turns, 200);
  test::expect_no_frames();
}

// Many short timers, in tasks and as callbacks: each fires once, in deadline
// order per kind; the loop waits for the last one and returns.
TEST(RealClock, ManyShortTimersAllFire) {
  constexpr int kTasks = 2000;
  std::vector<int> woke;
  int callbacks = 0;
  test::run_real("many short timers", [&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    std::vector<asyncio::Task<int>> tasks;
    for (int i = 0; i < kTasks; ++i) {
      tasks.push_back(asyncio::create_task([](int i) -> asyncio::Coro<int> {
        co_await asyncio::sleep(std::chrono::microseconds(100 * (i % 50)));
        co_return i;
      }(i)));
      loop.call_later(std::chrono::microseconds(70 * (i % 30)), [&] { ++callbacks; });
    }
    for (auto& t : tasks) woke.push_back(co_await t);
  }());
  ASSERT_EQ(woke.size(), static_cast<std::size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(woke[i], i);
  EXPECT_EQ(callbacks, kTasks);
  test::expect_no_frames();
}

// W3's shape on the real clock (bench/w3_timers.cpp): 20,000 tasks gathered,
// each sleeping a pseudo-random 0-19 ms, every fifth one cancelled while it
// sleeps by a callback due in 5 ms. The timer heap, the ready queue and
// gather's nodes grow onto huge pages (detail/big_buffer.hpp) and are swept
// of the cancelled sleeps. Every task ends once: returned its index, or
// cancelled (CancelledError at its sleep); the loop returns; nothing is left.
TEST(RealClock, TwentyThousandSleepingTasksGatheredSomeCancelledAllEnd) {
  constexpr int kTasks = 20000;
  std::vector<asyncio::Outcome<int>> results;
  int caught = 0;
  test::run_real("20,000 sleeping tasks", [&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    auto sleeper = [&caught](int i, int ms) -> asyncio::Coro<int> {
      try {
        co_await asyncio::sleep(std::chrono::milliseconds(ms));
      } catch (const asyncio::CancelledError&) {
        ++caught;
        throw;
      }
      co_return i;
    };
    std::vector<asyncio::Task<int>> tasks;
    unsigned seed = 12345;
    for (int i = 0; i < kTasks; ++i) {
      seed = (seed * 1103515245u + 12345u) & 0x7FFFFFFFu;
      // The cancelled ones sleep at least 10 ms: the cancel reaches them asleep.
      tasks.push_back(asyncio::create_task(sleeper(i, i % 5 == 0 ? 10 + static_cast<int>(seed >> 8) % 10
                                                                  : static_cast<int>(seed >> 8) % 20)));
    }
    auto canceller = loop.call_later(5ms, [&tasks] {
      for (std::size_t i = 0; i < tasks.size(); i += 5) tasks[i].cancel();
    });
    results = co_await asyncio::gather(asyncio::return_exceptions, tasks);
  }());
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) {
    if (i % 5 == 0) {
      EXPECT_TRUE(results[i].has_exception()) << i;
    } else {
      ASSERT_FALSE(results[i].has_exception()) << i;
      EXPECT_EQ(results[i].value(), i);
    }
  }
  EXPECT_EQ(caught, kTasks / 5);
  test::expect_no_frames();
}

// A thread-safe call wakes a loop that is blocked waiting for a far timer:
// the loop must not sleep until that timer (here 1 h away: the watchdog ends
// the test long before).
TEST(RealClock, CallSoonThreadsafeWakesALoopWaitingForAFarTimer) {
  std::vector<int> got;
  test::run_real("thread-safe wake-up during a long sleep", [&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    auto far = loop.call_later(1h, [] {});
    for (int round = 0; round < 20; ++round) {
      auto fut = loop.create_future<int>();
      // The thread holds no Future handle (its count is not atomic): the
      // callback reaches the future on the loop's thread, by reference.
      std::thread t([&loop, &fut, round] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1 + round % 3));
        loop.call_soon_threadsafe([&fut, round] { fut.set_result(round); });
      });
      got.push_back(co_await fut);
      t.join();
    }
    far.cancel();
  }());
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i], i);
  test::expect_no_frames();
}

// Thread-safe calls arriving while the loop sleeps, computes, or both, from
// several threads at once: every one runs exactly once.
TEST(RealClock, ThreadsafeCallsDuringSleepsAndComputeAllRun) {
  constexpr int kThreads = 4, kCalls = 500;
  int ran = 0;
  test::run_real("thread-safe calls during sleeps", [&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < kCalls; ++i) {
          loop.call_soon_threadsafe([&] { ++ran; });
          if (i % 50 == 0) std::this_thread::sleep_for(200us);
        }
      });
    }
    go = true;
    int i = 0;
    while (ran < kThreads * kCalls) {  // `ran` grows in the callbacks, while we sleep
      if (i++ % 3 == 0) compute_for(std::chrono::microseconds(300));
      co_await asyncio::sleep(std::chrono::microseconds(500));
    }
    for (auto& t : threads) t.join();
  }());
  EXPECT_EQ(ran, kThreads * kCalls);
  test::expect_no_frames();
}

// Two tasks that ping-pong through queues keep callbacks ready on every
// iteration, so the loop runs its common pass (events.cpp, run_once: no poll,
// no timer) until something else needs a look: callbacks posted from another
// thread and a timer must still run while the ping-pong goes on. It stops only
// once all of them ran (a starved post or timer would hang: the watchdog).
TEST(RealClock, TasksThatAreAlwaysReadyStillLetThreadsafeCallsAndTimersRun) {
  constexpr int kCalls = 300;
  int ran = 0;
  bool fired = false;
  long long round_trips = 0;
  test::run_real("ping-pong with thread-safe calls and a timer", [&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    asyncio::Queue<int> there(1), back(1);
    auto consumer = [&]() -> asyncio::Coro<> {
      for (;;) {
        int v = co_await there.get();
        if (v < 0) co_return;
        co_await back.put(v);
      }
    };
    auto c = asyncio::create_task(consumer());
    std::thread poster([&] {
      for (int i = 0; i < kCalls; ++i) {
        loop.call_soon_threadsafe([&] { ++ran; });
        if (i % 30 == 0) std::this_thread::sleep_for(100us);
      }
    });
    loop.call_later(0.002, [&] { fired = true; });
    while (ran < kCalls || !fired) {
      co_await there.put(1);
      round_trips += co_await back.get();
    }
    co_await there.put(-1);
    co_await c;
    poster.join();
  }());
  EXPECT_EQ(ran, kCalls);
  EXPECT_TRUE(fired);
  EXPECT_GT(round_trips, 0);
  test::expect_no_frames();
}

// Executor jobs finishing while the loop waits for timers, and a queue fed by
// both: every job's result arrives.
TEST(RealClock, ExecutorJobsWakeTheLoopBetweenTimers) {
  long total = 0;
  test::run_real("executor jobs between timers", [&]() -> asyncio::Coro<> {
    asyncio::Queue<int> q;
    auto producer = asyncio::create_task([](asyncio::Queue<int>& q) -> asyncio::Coro<> {
      for (int i = 0; i < 100; ++i) {
        int v = co_await asyncio::to_thread([i] {
          std::this_thread::sleep_for(std::chrono::microseconds(200 * (i % 4)));
          return i;
        });
        co_await q.put(v);
        co_await asyncio::sleep(std::chrono::microseconds(300 * (i % 3)));
      }
    }(q));
    for (int i = 0; i < 100; ++i) total += co_await q.get();
    co_await producer;
  }());
  EXPECT_EQ(total, 99 * 100 / 2);
  test::expect_no_frames();
}

// A libuv timer of the I/O layers (curl's, say) whose callback makes a task
// ready, and which is already due when the loop polls: uv_run(UV_RUN_ONCE)
// runs it first thing, then computed its poll timeout from libuv's own
// handles alone and blocked in epoll with the task ready (found in the HTTP
// client, which worked around it there). The loop's ready guard stops that
// poll; with no guard this test hangs and its watchdog fails it.
TEST(RealClock, AUvTimerThatMakesATaskReadyBeforeThePollDoesNotBlockIt) {
  struct Timer {
    uv_timer_t handle;
    asyncio::Future<int> fut;
  };
  int got = test::run_real("uv timer readies a task", [&]() -> asyncio::Coro<int> {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    auto* t = new Timer{{}, loop.create_future<int>()};
    uv_timer_init(loop.uv_loop(), &t->handle);
    t->handle.data = t;
    uv_timer_start(&t->handle, [](uv_timer_t* h) { static_cast<Timer*>(h->data)->fut.set_result(42); }, 1, 0);
    compute_for(std::chrono::milliseconds(5));  // the uv timer is due before the loop polls
    int v = co_await t->fut;
    uv_close(reinterpret_cast<uv_handle_t*>(&t->handle), [](uv_handle_t* h) { delete static_cast<Timer*>(h->data); });
    co_await asyncio::sleep(0.005);  // the close callback runs in the loop's next poll
    co_return v;
  }());
  EXPECT_EQ(got, 42);
  test::expect_no_frames();
}

}  // namespace
