// asyncio::run: result, exceptions, shutdown of leftover tasks (runners.hpp).
#include "asyncio/runners.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "asyncio/taskgroups.hpp"

#include "support.hpp"
#include "watchdog.hpp"

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

// ---- asyncio.Runner ------------------------------------------------------------------
//
// Python 3.11:
//   with asyncio.Runner() as r:
//       t = None
//       async def first():
//           nonlocal t
//           t = asyncio.create_task(asyncio.sleep(5, "left over"))
//           return id(asyncio.get_running_loop())
//       async def second():
//           return id(asyncio.get_running_loop()), await t
//       a = r.run(first()); b, v = r.run(second())
//       print(a == b == id(r.get_loop()), v)      # True left over
//   r.run(first())      # RuntimeError: Runner is closed
//   r.get_loop()        # RuntimeError: Runner is closed

TEST(Runner, RunsSeveralCoroutinesOnOneLoop) {
  asyncio::Runner runner(asyncio::RunOptions{.debug = false, .virtual_time = true, .trace_path = {}});
  asyncio::Task<std::string> left_over;
  auto* first = runner.run([&]() -> asyncio::Coro<asyncio::EventLoop*> {
    left_over = asyncio::create_task([]() -> asyncio::Coro<std::string> {
      co_await asyncio::sleep(5s);
      co_return "left over";
    }());
    co_return &asyncio::get_running_loop();
  }());
  auto [second, value] = runner.run([&]() -> asyncio::Coro<std::pair<asyncio::EventLoop*, std::string>> {
    std::string v = co_await left_over;
    co_return std::pair{&asyncio::get_running_loop(), v};
  }());
  EXPECT_EQ(first, second);
  EXPECT_EQ(first, &runner.get_loop());
  EXPECT_EQ(value, "left over");
  left_over = {};
  runner.close();
  EXPECT_THROW(runner.get_loop(), asyncio::RuntimeError);
  try {
    runner.run([]() -> asyncio::Coro<> { co_return; }());
    ADD_FAILURE() << "run() on a closed Runner";
  } catch (const asyncio::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "Runner is closed");
  }
  runner.close();  // a second close does nothing
  test::expect_no_frames();
}

TEST(Runner, LeavingItsScopeClosesItAndCancelsWhatIsLeft) {
  test::Log log;
  {
    asyncio::Runner runner(asyncio::RunOptions{.debug = false, .virtual_time = true, .trace_path = {}});
    runner.run([&]() -> asyncio::Coro<> {
      asyncio::create_task(leftover(log, "a"));
      co_return;
    }());
    log("scope ends");
  }
  EXPECT_THAT(log.items, ElementsAre("scope ends", "a cancelled", "a cleaned up"));
  test::expect_no_frames();
}

TEST(Runner, CannotRunInsideARunningLoop) {
  test::run_virtual([]() -> asyncio::Coro<> {
    asyncio::Runner inner;
    try {
      inner.run([]() -> asyncio::Coro<> { co_return; }());
      ADD_FAILURE() << "no error";
    } catch (const asyncio::RuntimeError& e) {
      EXPECT_STREQ(e.what(), "Runner.run() cannot be called from a running event loop");
    }
    co_return;
  }());
  test::expect_no_frames();
}

// ---- Ctrl-C ------------------------------------------------------------------------------
//
// Python 3.11 (each with os.kill(os.getpid(), signal.SIGINT) from a call_later):
//   async def child():
//       try: await asyncio.sleep(10)
//       finally: log.append("child finally")
//   async def main():
//       try:
//           async with asyncio.TaskGroup() as tg:
//               tg.create_task(child())
//               loop.call_later(1, os.kill, os.getpid(), signal.SIGINT)
//               await asyncio.sleep(10)
//       finally: log.append("main finally")
//   asyncio.run(main())   # log: child finally, main finally; raises KeyboardInterrupt
//                         # signal.getsignal(SIGINT) is default_int_handler afterwards
//   A main that catches the CancelledError and returns 7: asyncio.run() returns 7.
//   A main that swallows the first SIGINT and gets a second: Runner.run raises
//   KeyboardInterrupt at once; Runner.close() then cancels main
//   (log: cancelled once, KeyboardInterrupt, before close, cancelled again).

void sigint_later(std::chrono::seconds delay) {
  asyncio::get_running_loop().call_later(delay, [] { kill(getpid(), SIGINT); });
}

bool sigint_is_default() {
  struct sigaction sa {};
  sigaction(SIGINT, nullptr, &sa);
  return (sa.sa_flags & SA_SIGINFO) == 0 && sa.sa_handler == SIG_DFL;
}

TEST(CtrlC, TheFirstSigintCancelsTheMainTaskWhichUnwindsThenRunRaisesKeyboardInterrupt) {
  test::Log log;
  try {
    test::run_virtual([&]() -> asyncio::Coro<> {
      struct Finally {
        test::Log& log;
        ~Finally() { log("main finally"); }
      } finally{log};
      asyncio::TaskGroup tg;
      co_await tg.async_with([&]() -> asyncio::Coro<> {
        // Named: the task runs after this statement, and a coroutine lambda's
        // captures live in the lambda object, not in the coroutine's frame.
        auto child = [&]() -> asyncio::Coro<> {
          struct ChildFinally {
            test::Log& log;
            ~ChildFinally() { log("child finally"); }
          } child_finally{log};
          co_await asyncio::sleep(10s);
        };
        tg.create_task(child());
        sigint_later(1s);
        co_await asyncio::sleep(10s);
      });
    }());
    log("returned");
  } catch (const asyncio::KeyboardInterrupt&) {
    log("KeyboardInterrupt");
  }
  EXPECT_THAT(log.items, ElementsAre("child finally", "main finally", "KeyboardInterrupt"));
  EXPECT_TRUE(sigint_is_default());
  test::expect_no_frames();
}

TEST(CtrlC, AMainTaskThatSwallowsTheCancellationReturnsItsValue) {
  int value = test::run_virtual([]() -> asyncio::Coro<int> {
    sigint_later(1s);
    try {
      co_await asyncio::sleep(10s);
    } catch (const asyncio::CancelledError&) {
      co_return 7;
    }
    co_return 0;
  }());
  EXPECT_EQ(value, 7);
  test::expect_no_frames();
}

TEST(CtrlC, ASecondSigintRaisesAtOnceAndCloseCancelsTheMainTask) {
  test::Log log;
  asyncio::Runner runner(asyncio::RunOptions{.debug = false, .virtual_time = true, .trace_path = {}});
  try {
    runner.run([&]() -> asyncio::Coro<> {
      sigint_later(1s);
      try {
        co_await asyncio::sleep(10s);
      } catch (const asyncio::CancelledError&) {
        log("cancelled once");
      }
      sigint_later(1s);
      try {
        co_await asyncio::sleep(10s);
      } catch (const asyncio::CancelledError&) {
        log("cancelled again");
        throw;
      }
    }());
  } catch (const asyncio::KeyboardInterrupt&) {
    log("KeyboardInterrupt");
  }
  log("before close");
  runner.close();
  EXPECT_THAT(log.items, ElementsAre("cancelled once", "KeyboardInterrupt", "before close", "cancelled again"));
  test::expect_no_frames();
}

TEST(CtrlC, OnTheRealClockTheSigintWakesABlockedLoop) {
  test::Watchdog dog("test_runners", 30s);
  bool cancelled = false;
  EXPECT_THROW(asyncio::run([&]() -> asyncio::Coro<> {
                 asyncio::get_running_loop().call_later(10ms, [] { kill(getpid(), SIGINT); });
                 try {
                   co_await asyncio::sleep(3600s);
                 } catch (const asyncio::CancelledError&) {
                   cancelled = true;
                   throw;
                 }
               }()),
               asyncio::KeyboardInterrupt);
  EXPECT_TRUE(cancelled);
  test::expect_no_frames();
}

std::atomic<int> g_own_handler_calls{0};

TEST(CtrlC, AProgramsOwnSigintHandlerIsKept) {
  struct sigaction own {};
  own.sa_handler = [](int) { g_own_handler_calls.fetch_add(1); };
  sigaction(SIGINT, &own, nullptr);
  bool cancelled = false;
  test::run_virtual([&]() -> asyncio::Coro<> {
    sigint_later(1s);
    try {
      co_await asyncio::sleep(2s);
    } catch (const asyncio::CancelledError&) {
      cancelled = true;
    }
  }());
  struct sigaction after {};
  sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(g_own_handler_calls.load(), 1);
  EXPECT_FALSE(cancelled);
  EXPECT_EQ(after.sa_handler, own.sa_handler);
  signal(SIGINT, SIG_DFL);
  test::expect_no_frames();
}

TEST(CtrlC, ALoopSigintHandlerTakesPrecedenceOverTheRunners) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    loop.add_signal_handler(SIGINT, [&] { log("loop handler"); });
    sigint_later(1s);
    co_await asyncio::sleep(2s);
    log("main not cancelled");
    loop.remove_signal_handler(SIGINT);
  }());
  EXPECT_THAT(log.items, ElementsAre("loop handler", "main not cancelled"));
  EXPECT_TRUE(sigint_is_default());
  test::expect_no_frames();
}

}  // namespace
