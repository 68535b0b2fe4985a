// Debug mode's diagnostics teach (events.hpp, graph.hpp): a slow step names
// the task, where it resumed and what it had waited on, and says that CPU-bound
// work belongs in an executor; a task exception never retrieved and a
// coroutine never awaited say where they were created.
//
// CPython 3.11 (PYTHONASYNCIODEBUG=1) for comparison:
//   Executing <Task pending name='cruncher' coro=<worker() running at t.py:9> ...> took 0.105 seconds
//   Task exception was never retrieved
//   future: <Task finished name='failing' coro=<fail() done, defined at t.py:3> exception=ValueError('boom')
//            created at t.py:12>
//   RuntimeWarning: coroutine 'forgotten' was never awaited
//   Coroutine created at (most recent call last): File "t.py", line 15, in main
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "asyncio/events.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/tasks.hpp"

using namespace std::chrono_literals;

namespace {

asyncio::RunOptions debug_run(bool virtual_time) {
  return asyncio::RunOptions{.debug = true, .virtual_time = virtual_time, .trace_path = {}};
}

std::string normalized(std::string s) {
  s = std::regex_replace(s, std::regex("took \\d+\\.\\d+ seconds"), "took X seconds");
  return std::regex_replace(s, std::regex("Task-\\d+"), "Task-N");
}

asyncio::Coro<> crunch() {
  co_await asyncio::sleep(0s);
  // CPU-bound work inside a coroutine: the loop can do nothing else meanwhile.
  auto until = std::chrono::steady_clock::now() + 30ms;
  while (std::chrono::steady_clock::now() < until) {
  }
}
asyncio::Coro<> worker() { co_await crunch(); }

TEST(DebugMode, ASlowStepNamesTheTaskWhereItResumedAndTheExecutorHint) {
  testing::internal::CaptureStderr();
  asyncio::run(
      []() -> asyncio::Coro<> {
        asyncio::get_running_loop().slow_callback_duration = 0.02;
        co_await asyncio::create_task(worker(), "cruncher");
      }(),
      debug_run(false));
  std::string err = normalized(testing::internal::GetCapturedStderr());
  EXPECT_EQ(err,
            "Executing <Task pending name='cruncher' coro=<worker()>> took X seconds\n"
            "  the step resumed crunch() <- worker() after it waited on sleep(0)\n"
            "  It blocked the event loop: every other task waited. CPU-bound work belongs in an executor\n"
            "  (loop.run_in_executor, asyncio::to_thread; docs/1_concepts.md, \"Processes vs threads\").\n");
}

asyncio::Coro<> fail() {
  co_await asyncio::sleep(0s);
  throw asyncio::ValueError("boom");
}

TEST(DebugMode, ATaskExceptionNeverRetrievedSaysWhereTheTaskWasCreated) {
  std::vector<asyncio::ExceptionContext> seen;
  asyncio::run(
      [&]() -> asyncio::Coro<> {
        asyncio::get_running_loop().set_exception_handler(
            [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { seen.push_back(c); });
        {
          auto t = asyncio::create_task(fail(), "failing");
        }  // nobody keeps the task or looks at its exception
        co_await asyncio::sleep(1s);
      }(),
      debug_run(true));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].message, "Task exception was never retrieved");
  EXPECT_EQ(normalized(seen[0].task),
            "<Task finished exception=ValueError('boom') name='failing' coro=<fail()>> created in task "
            "'Task-N' (operator()())");
}

asyncio::Coro<> forgotten() { co_return; }
asyncio::Coro<> forgets() {
  auto c = forgotten();  // made, never awaited, dropped
  co_return;
}

TEST(DebugMode, ACoroutineNeverAwaitedSaysWhereItWasCreated) {
  std::vector<std::string> seen;
  asyncio::run(
      [&]() -> asyncio::Coro<> {
        asyncio::get_running_loop().set_exception_handler(
            [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { seen.push_back(c.message); });
        co_await asyncio::create_task(forgets(), "forgetful");
      }(),
      debug_run(true));
  EXPECT_THAT(seen, testing::ElementsAre("coroutine 'forgotten' was never awaited\n"
                                         "Coroutine created in task 'forgetful' (forgets())"));
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
