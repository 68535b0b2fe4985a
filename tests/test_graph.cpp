// "Where is my task stuck" (graph.hpp): the dump shows each task with what it
// waits on, the coroutine frames it awaits inline, and who awaits it.
//
// The scenario in Python (3.14 has asyncio.print_call_graph; its form differs:
// it gives file and line per frame, as C++ does in debug mode, where C++
// outside debug mode gives the coroutine's name):
//
//   async def take(q): return await q.get()
//   async def hold(lock, q):
//       async with lock: await take(q)            # stuck on the queue
//   async def enter(lock):
//       async with lock: pass
//   async def wait_for_lock(lock): await enter(lock)   # stuck on the lock
//   async def observe(t): await t
//   async def main():
//       lock, q = asyncio.Lock(), asyncio.Queue()
//       holder = asyncio.create_task(hold(lock, q), name="holder")
//       waiter = asyncio.create_task(wait_for_lock(lock), name="waiter")
//       observer = asyncio.create_task(observe(waiter), name="observer")
//       await asyncio.sleep(0); await asyncio.sleep(0)
//       for t in (holder, waiter, observer): asyncio.print_call_graph(t)
//       q.put_nowait(1); await observer
#include "asyncio/graph.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/core.h>

#include <functional>
#include <regex>

#include "asyncio/events.hpp"
#include "asyncio/locks.hpp"
#include "asyncio/queues.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/tasks_combinators.hpp"
#include "support.hpp"

using namespace std::chrono_literals;

namespace {

// Each k...Line is the line of the co_await where that coroutine is suspended
// in the scenario (debug mode's dump names it).
asyncio::Coro<int> take(asyncio::Queue<int>& q) { co_return co_await q.get(); } const int kTakeLine = __LINE__;
asyncio::Coro<> hold(asyncio::Lock& lock, asyncio::Queue<int>& q) {
  auto guard = co_await lock;
  co_await take(q);
}
const int kHoldLine = __LINE__ - 2;
asyncio::Coro<> enter(asyncio::Lock& lock) { auto guard = co_await lock; } const int kEnterLine = __LINE__;
asyncio::Coro<> wait_for_lock(asyncio::Lock& lock) { co_await enter(lock); } const int kWaitForLockLine = __LINE__;
asyncio::Coro<> observe(asyncio::Task<> t) { co_await t; }

std::string normalized(std::string s) {
  s = std::regex_replace(s, std::regex("0x[0-9a-f]+"), "0x..");
  s = std::regex_replace(s, std::regex("loop time [0-9.]+ s"), "loop time T s");
  return std::regex_replace(s, std::regex("Task-\\d+"), "Task-N");
}

// Sets up the scenario, calls `inspect` while the two tasks are stuck, then unwinds.
using Inspect = std::function<asyncio::Coro<>(asyncio::Task<>&, asyncio::Task<>&)>;
asyncio::Coro<> stuck_scenario(Inspect inspect) {
  asyncio::Lock lock;
  asyncio::Queue<int> q;
  auto holder = asyncio::create_task(hold(lock, q), "holder");
  auto waiter = asyncio::create_task(wait_for_lock(lock), "waiter");
  auto observer = asyncio::create_task(observe(waiter), "observer");
  co_await asyncio::sleep(0s);
  co_await asyncio::sleep(0s);
  co_await inspect(holder, waiter);
  q.put_nowait(1);
  co_await observer;
  co_await holder;
}

const char* const kHolder =
    "* <Task pending name='holder' coro=<hold()>>\n"
    "  waits on: asyncio::Queue get <Queue maxsize=0 qsize=0 _getters[1]>\n"
    "  + coroutine frames, innermost first:\n"
    "  |   take()\n"
    "  |   hold()\n";
const char* const kWaiter =
    "* <Task pending name='waiter' coro=<wait_for_lock()>>\n"
    "  waits on: asyncio::Lock <asyncio.locks.Lock object at 0x.. [locked, waiters:1]>\n"
    "  + coroutine frames, innermost first:\n"
    "  |   enter()\n"
    "  |   wait_for_lock()\n"
    "  + awaited by:\n"
    "  |   <Task pending name='observer' coro=<observe()>>\n";

TEST(Graph, ATaskStuckOnALockHeldByATaskStuckOnAQueuePrintsBothChains) {
  std::string dump;
  test::run_virtual(stuck_scenario([&](asyncio::Task<>& holder, asyncio::Task<>& waiter) -> asyncio::Coro<> {
    EXPECT_EQ(normalized(asyncio::format_call_graph(holder)), kHolder);
    EXPECT_EQ(normalized(asyncio::format_call_graph(waiter)), kWaiter);
    dump = asyncio::format_all_tasks();
    co_return;
  }));
  EXPECT_EQ(normalized(dump),
            std::string("4 pending task(s) at loop time T s\n"
                        "* <Task pending name='Task-N' coro=<stuck_scenario()>>\n"
                        "  running now\n") +
                kHolder + kWaiter +
                "* <Task pending name='observer' coro=<observe()>>\n"
                "  waits on: task <Task pending name='waiter' coro=<wait_for_lock()>>\n"
                "  + coroutine frames, innermost first:\n"
                "  |   observe()\n");
  test::expect_no_frames();
}

asyncio::Coro<> nap() { co_await asyncio::sleep(2500ms); }

TEST(Graph, ASleepingTaskShowsItsDeadline) {
  std::string dump;
  double start = 0;
  test::run_virtual([&]() -> asyncio::Coro<> {
    start = asyncio::get_running_loop().time();
    auto t = asyncio::create_task(nap(), "sleeper");
    co_await asyncio::sleep(1s);
    dump = asyncio::format_call_graph(t);
    t.cancel();
  }());
  EXPECT_EQ(dump, fmt::format("* <Task pending name='sleeper' coro=<nap()>>\n"
                              "  waits on: sleep sleep: wakes at loop time {:.3f} s (in 1.500 s)\n"
                              "  + coroutine frames, innermost first:\n"
                              "  |   nap()\n",
                              start + 2.5));
  test::expect_no_frames();
}

TEST(Graph, SigusrOnRequestPrintsTheDumpOnStderr) {
  // Real clock: the signal arrives through libuv when the loop polls.
  testing::internal::CaptureStderr();
  // The watchdog: wait_for turns a hang into TimeoutError.
  asyncio::run(asyncio::wait_for(stuck_scenario([](asyncio::Task<>&, asyncio::Task<>&) -> asyncio::Coro<> {
                                   asyncio::get_running_loop().dump_tasks_on_signal();
                                   ::raise(SIGUSR1);
                                   co_await asyncio::sleep(20ms);  // the loop polls while it waits
                                 }),
                                 30s));
  std::string err = normalized(testing::internal::GetCapturedStderr());
  EXPECT_NE(err.find(kHolder), std::string::npos) << err;
  EXPECT_NE(err.find(kWaiter), std::string::npos) << err;
  test::expect_no_frames();
}

// In debug mode each frame says where it is suspended: "file:line in coro()",
// the line of its co_await (CPython 3.14's print_call_graph gives file and line
// per frame too). Outside debug mode nothing is recorded (the tests above).
TEST(Graph, InDebugModeEachFrameShowsTheFileAndLineOfItsCoAwait) {
  std::string holder_graph, waiter_graph;
  asyncio::run(stuck_scenario([&](asyncio::Task<>& holder, asyncio::Task<>& waiter) -> asyncio::Coro<> {
                 holder_graph = asyncio::format_call_graph(holder);
                 waiter_graph = asyncio::format_call_graph(waiter);
                 co_return;
               }),
               asyncio::RunOptions{.debug = true, .virtual_time = true, .trace_path = {}});
  auto at = [](int, const char* coro) { return fmt::format("  |   {}()\n", coro); };
  EXPECT_EQ(normalized(holder_graph), "* <Task pending name='holder' coro=<hold()>>\n"
                                      "  waits on: asyncio::Queue get <Queue maxsize=0 qsize=0 _getters[1]>\n"
                                      "  + coroutine frames, innermost first:\n" +
                                          at(kTakeLine, "take") + at(kHoldLine, "hold"));
  EXPECT_EQ(normalized(waiter_graph),
            "* <Task pending name='waiter' coro=<wait_for_lock()>>\n"
            "  waits on: asyncio::Lock <asyncio.locks.Lock object at 0x.. [locked, waiters:1]>\n"
            "  + coroutine frames, innermost first:\n" +
                at(kEnterLine, "enter") + at(kWaitForLockLine, "wait_for_lock") +
                "  + awaited by:\n"
                "  |   <Task pending name='observer' coro=<observe()>>\n");
  test::expect_no_frames();
}

TEST(Graph, OutsideARunningLoopTheDumpRaises) {
  EXPECT_THROW(asyncio::format_all_tasks(), asyncio::RuntimeError);
}

}  // namespace
