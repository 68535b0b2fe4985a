// Debug mode's diagnostics teach (events.hpp, graph.hpp): a slow step names
// the task, where it resumed (the file:line of the co_await it had suspended
// at) and what it had waited on, says that CPU-bound work belongs in an
// executor, and prints every task; a task exception never retrieved says at
// which create_task call (file:line) and in which task it was created; a
// coroutine never awaited says where it is defined and in which task it was
// created.
//
// The Python program (tests/python/debug_reports.py) and what CPython 3.11
// prints for it (PYTHONASYNCIODEBUG / debug=True), paths shortened:
//   Task exception was never retrieved
//   future: <Task finished name='failing' coro=<fail() done, defined at t.py:3> exception=ValueError('boom')
//            created at .../asyncio/tasks.py:384>
//   source_traceback: Object created at (most recent call last):
//     ...
//     File "t.py", line 15, in main
//       t = asyncio.create_task(fail(), name='failing')
//   t.py:19: RuntimeWarning: coroutine 'forgotten' was never awaited
//   Coroutine created at (most recent call last)
//     ...
//     File "t.py", line 18, in main
//   Executing <Task finished name='cruncher' coro=<crunch() done, defined at t.py:10> result=None
//             created at .../asyncio/tasks.py:384> took 0.120 seconds
// C++ has no cheap stack walk: it keeps the create_task call's file:line and
// the creating task, and for a coroutine its definition's file:line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "asyncio/events.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/tasks.hpp"
#include "support.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;

namespace {

asyncio::RunOptions debug_run(bool virtual_time) {
  return asyncio::RunOptions{.debug = true, .virtual_time = virtual_time, .trace_path = {}};
}

std::string normalized(std::string s) {
  s = std::regex_replace(s, std::regex("took \\d+\\.\\d+ seconds"), "took X seconds");
  s = std::regex_replace(s, std::regex("loop time [0-9.]+ s"), "loop time T s");
  s = std::regex_replace(s, std::regex("\\(in [0-9.]+ s\\)"), "(in S s)");
  return std::regex_replace(s, std::regex("Task-\\d+"), "Task-N");
}

std::string at(int line) { return std::string(__FILE__) + ":" + std::to_string(line); }



asyncio::Coro<> crunch() {
  co_await asyncio::sleep(0s);
  // CPU-bound work inside a coroutine: the loop can do nothing else meanwhile.
  auto until = std::chrono::steady_clock::now() + 120ms;
  while (std::chrono::steady_clock::now() < until) {
  }
}
asyncio::Coro<> worker() { co_await crunch(); }

// Real clock (the report measures the step on it), under a watchdog; no
// duration is asserted, only that the 120 ms step passed the 100 ms default.
TEST(DebugMode, ASlowStepNamesTheTaskItsAwaitSiteTheExecutorHintAndPrintsEveryTask) {
  test::Watchdog watchdog("slow step report");
  testing::internal::CaptureStderr();
  asyncio::run(
      [&]() -> asyncio::Coro<> {
        EXPECT_EQ(asyncio::get_running_loop().slow_callback_duration, 0.1);
        co_await asyncio::create_task(worker(), "cruncher");
      }(),
      debug_run(false));
  std::string err = normalized(testing::internal::GetCapturedStderr());
  EXPECT_EQ(err,
            "Executing <Task pending name='cruncher' coro=<worker()>> took X seconds\n"
            "  the step resumed crunch() <- worker() after it waited on sleep(0)\n"
            "  It blocked the event loop: every other task waited. CPU-bound work belongs in an executor\n"
            "  (loop.run_in_executor, asyncio::to_thread; docs/1_concepts.md, \"Processes vs threads\").\n"
            "  Tasks after the step: 1 pending task(s) at loop time T s\n"
            "  * <Task pending name='Task-N' coro=<operator()()>>\n"
            "    waits on: task <Task finished name='cruncher' coro=<worker()>>\n"
            "    + coroutine frames, innermost first:\n"
            "    |   operator()()\n");
  test::expect_no_frames();
}

void block_in_callback() {
  auto until = std::chrono::steady_clock::now() + 120ms;
  while (std::chrono::steady_clock::now() < until) {
  }
}
asyncio::Coro<> idle() { co_await asyncio::sleep(1s); }

TEST(DebugMode, ASlowCallbackIsReportedWithEveryTask) {
  test::Watchdog watchdog("slow callback report");
  testing::internal::CaptureStderr();
  asyncio::run(
      [&]() -> asyncio::Coro<> {
        auto t = asyncio::create_task(idle(), "idler");
        asyncio::get_running_loop().call_soon(block_in_callback);
        co_await asyncio::sleep(0s);
        t.cancel();
      }(),
      debug_run(false));
  std::string err = normalized(testing::internal::GetCapturedStderr());
  EXPECT_EQ(err, "Executing <Handle callback> took X seconds\n"
                 "  Tasks after the step: 2 pending task(s) at loop time T s\n"
                 "  * <Task pending name='Task-N' coro=<operator()()>>\n"
                 "    waits on: sleep(0) ready to run\n"
                 "    + coroutine frames, innermost first:\n"
                 "    |   operator()()\n"
                 "  * <Task pending name='idler' coro=<idle()>>\n"
                 "    waits on: sleep sleep: wakes at loop time T s (in S s)\n"
                 "    + coroutine frames, innermost first:\n"
                 "    |   idle()\n");
  test::expect_no_frames();
}

asyncio::Coro<> fail() {
  co_await asyncio::sleep(0s);
  throw asyncio::ValueError("boom");
}

TEST(DebugMode, ATaskExceptionNeverRetrievedSaysWhereTheTaskWasCreated) {
  std::vector<asyncio::ExceptionContext> seen;
  int created_line = 0;
  asyncio::run(
      [&]() -> asyncio::Coro<> {
        asyncio::get_running_loop().set_exception_handler(
            [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { seen.push_back(c); });
        {
          auto t = asyncio::create_task(fail(), "failing"); created_line = __LINE__;
        }  // nobody keeps the task or looks at its exception
        co_await asyncio::sleep(1s);
      }(),
      debug_run(true));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].message, "Task exception was never retrieved");
  EXPECT_EQ(normalized(seen[0].task), "<Task finished exception=ValueError('boom') name='failing' coro=<fail()>> "
                                      "created at " + at(created_line) + " in task 'Task-N' (operator()())");
  test::expect_no_frames();
}

// The line the compiler gives for a coroutine's definition: the line of its
// name with clang, of its closing brace with g++ (detail/await_site.hpp).
asyncio::Coro<> forgotten()
{
  co_return;
}
#ifdef __clang__
const int kForgottenDefined = __LINE__ - 5;
#else
const int kForgottenDefined = __LINE__ - 4;
#endif
asyncio::Coro<> forgets() {
  auto c = forgotten();  // made, never awaited, dropped
  co_return;
}

TEST(DebugMode, ACoroutineNeverAwaitedSaysWhereItIsDefinedAndWhereItWasCreated) {
  std::vector<std::string> seen;
  asyncio::run(
      [&]() -> asyncio::Coro<> {
        asyncio::get_running_loop().set_exception_handler(
            [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { seen.push_back(c.message); });
        co_await asyncio::create_task(forgets(), "forgetful");
      }(),
      debug_run(true));
  EXPECT_THAT(seen, testing::ElementsAre("coroutine 'forgotten' was never awaited\n"
                                         "Coroutine defined at " + at(kForgottenDefined) +
                                         ", created in task 'forgetful' (forgets())"));
  test::expect_no_frames();
}

TEST(DebugMode, OutsideDebugModeNoCreationIsRecorded) {
  std::vector<std::string> seen;
  asyncio::run(
      [&]() -> asyncio::Coro<> {
        asyncio::get_running_loop().set_exception_handler(
            [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { seen.push_back(c.task); });
        { auto t = asyncio::create_task(fail(), "failing"); }
        co_await asyncio::sleep(1s);
      }(),
      asyncio::RunOptions{.debug = false, .virtual_time = true, .trace_path = {}});
  EXPECT_THAT(seen, testing::ElementsAre("<Task finished exception=ValueError('boom') name='failing' coro=<fail()>>"));
  EXPECT_EQ(asyncio::detail::t_origin_count, 0u);
}

}  // namespace
