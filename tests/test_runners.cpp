// asyncio::run: result, exceptions, shutdown of leftover tasks (runners.hpp).
#include "asyncio/runners.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support.hpp"

using namespace std::chrono_literals;
using testing::ElementsAre;

namespace {

TEST(Run, ReturnsTheValueOfMain) {
  EXPECT_EQ(test::run_virtual([]() -> asyncio::Coro<std::string> { co_return "done"; }()), "done");
  test::expect_no_frames();
}

TEST(Run, RethrowsTheExceptionOfMain) {
  EXPECT_THROW(test::run_virtual([]() -> asyncio::Coro<> {
                 co_await asyncio::sleep(1s);
                 throw std::logic_error("main failed");
               }()),
               std::logic_error);
  test::expect_no_frames();
}

asyncio::Coro<> leftover(test::Log& log, std::string name) {
  std::exception_ptr cancelled;
  try {
    co_await asyncio::sleep(100s);
  } catch (const asyncio::CancelledError&) {
    log(name + " cancelled");
    cancelled = std::current_exception();  // C++ allows no co_await inside a handler
  }
  co_await asyncio::sleep(1s);  // cleanup may still await
  log(name + " cleaned up");
  if (cancelled) std::rethrow_exception(cancelled);
}

TEST(Run, CancelsTasksStillPendingAndRunsThemToTheirEnd) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    asyncio::create_task(leftover(log, "a"));
    asyncio::create_task(leftover(log, "b"));
    co_await asyncio::sleep(1s);
    log("main done");
  }());
  EXPECT_THAT(log.items, ElementsAre("main done", "a cancelled", "b cancelled", "a cleaned up", "b cleaned up"));
  test::expect_no_frames();
}

TEST(Run, ReportsLeftoverTasksThatFailDuringShutdown) {
  std::vector<std::string> seen;
  test::run_virtual([&]() -> asyncio::Coro<> {
    asyncio::get_running_loop().set_exception_handler(
        [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
          seen.push_back(c.message + " " + asyncio::exception_repr(c.exception));
        });
    asyncio::create_task([]() -> asyncio::Coro<> {
      try {
        co_await asyncio::sleep(100s);
      } catch (const asyncio::CancelledError&) {
        throw std::runtime_error("cleanup failed");
      }
    }());
    co_return;
  }());
  EXPECT_THAT(seen, ElementsAre("unhandled exception during asyncio.run() shutdown RuntimeError('cleanup failed')"));
  test::expect_no_frames();
}

TEST(Run, CannotBeCalledFromARunningLoop) {
  test::run_virtual([]() -> asyncio::Coro<> {
    EXPECT_THROW(asyncio::run([]() -> asyncio::Coro<> { co_return; }()), asyncio::RuntimeError);
    co_return;
  }());
  test::expect_no_frames();
}

TEST(Run, ATaskStillPendingWhenTheLoopClosesIsReportedAndFreed) {
  std::vector<std::string> seen;
  test::run_virtual([&]() -> asyncio::Coro<> {
    asyncio::get_running_loop().set_exception_handler(
        [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { seen.push_back(c.message); });
    // A task that ignores cancellation by spawning another one during shutdown.
    asyncio::create_task([]() -> asyncio::Coro<> {
      try {
        co_await asyncio::sleep(100s);
      } catch (const asyncio::CancelledError&) {
        asyncio::create_task(asyncio::sleep(100s));  // created after the cancel sweep
      }
    }());
    co_return;
  }());
  EXPECT_THAT(seen, ElementsAre("Task was destroyed but it is pending!"));
  test::expect_no_frames();
}

TEST(Run, EnvironmentSwitchesOnVirtualTime) {
  setenv("ASYNCIO_VIRTUAL_TIME", "1", 1);
  bool virt = asyncio::run([]() -> asyncio::Coro<bool> { co_return asyncio::get_running_loop().virtual_time(); }());
  unsetenv("ASYNCIO_VIRTUAL_TIME");
  bool real = asyncio::run([]() -> asyncio::Coro<bool> { co_return asyncio::get_running_loop().virtual_time(); }());
  EXPECT_TRUE(virt);
  EXPECT_FALSE(real);
}

}  // namespace
