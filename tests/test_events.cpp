// The event loop: callback ordering, timers, threads, errors, debug mode (events.hpp).
#include "asyncio/events.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "asyncio/tasks.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using testing::ElementsAre;

namespace {

TEST(EventLoop, CallSoonRunsCallbacksInFifoOrderWithTheirArguments) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    loop.call_soon([&](int x) { log("a" + std::to_string(x)); }, 1);
    loop.call_soon([&] { log("b"); });
    loop.call_soon([&] { log("c"); });
    co_await asyncio::sleep(0);
  }());
  EXPECT_THAT(log.items, ElementsAre("a1", "b", "c"));
}

TEST(EventLoop, CallbacksScheduledByACallbackRunOnTheNextIteration) {
  // CPython's _run_once runs only what was ready when the pass began.
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    loop.call_soon([&] {
      log("first");
      loop.call_soon([&] { log("scheduled by first"); });
    });
    loop.call_soon([&] { log("second"); });
    co_await asyncio::sleep(0);  // main resumes after "second", before the nested one
    log("main");
    co_await asyncio::sleep(0);
  }());
  EXPECT_THAT(log.items, ElementsAre("first", "second", "main", "scheduled by first"));
}

TEST(EventLoop, TimersFireByDeadlineThenBySchedulingOrder) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    loop.call_later(20ms, [&] { log("20ms"); });
    loop.call_later(10ms, [&] { log("10ms a"); });
    loop.call_later(10ms, [&] { log("10ms b"); });
    double when = loop.time() + 0.005;
    auto h = loop.call_at(when, [&] { log("5ms"); });
    EXPECT_NEAR(h.when(), when, 1e-6);  // seconds as a double of integer nanoseconds
    co_await asyncio::sleep(1s);
  }());
  EXPECT_THAT(log.items, ElementsAre("5ms", "10ms a", "10ms b", "20ms"));
}

TEST(EventLoop, ACancelledHandleDoesNotRun) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    auto soon = loop.call_soon([&] { log("soon"); });
    auto later = loop.call_later(1s, [&] { log("later"); });
    loop.call_soon([&] { log("kept"); });
    soon.cancel();
    later.cancel();
    EXPECT_TRUE(soon.cancelled());
    co_await asyncio::sleep(2s);
  }());
  EXPECT_THAT(log.items, ElementsAre("kept"));
}

TEST(EventLoop, VirtualTimeJumpsExactlyToTheNextTimer) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    EXPECT_TRUE(loop.virtual_time());
    std::int64_t t0 = loop.now_ns();  // integers: exact, unlike a difference of doubles
    co_await asyncio::sleep(3600s);
    EXPECT_EQ(loop.now_ns() - t0, 3600'000'000'000);
    co_await asyncio::sleep(0.25);
    EXPECT_EQ(loop.now_ns() - t0, 3600'250'000'000);
  }());
}

TEST(EventLoop, CallSoonThreadsafeFromAnotherThreadWakesTheLoop) {
  // Real time: the loop blocks in libuv until the other thread's callback arrives.
  int got = asyncio::run([]() -> asyncio::Coro<int> {
    auto& loop = asyncio::get_running_loop();
    auto fut = loop.create_future<int>();
    // The other thread never touches the Future (handles are not thread-safe):
    // the callback it sends does, on the loop's thread.
    std::thread worker([&loop, &fut] {
      std::this_thread::sleep_for(20ms);
      loop.call_soon_threadsafe([&fut] { fut.set_result(7); });
    });
    int v = co_await fut;
    worker.join();
    co_return v;
  }());
  EXPECT_EQ(got, 7);
  test::expect_no_frames();
}

TEST(EventLoop, VirtualTimeDoesNotJumpPastExternalWork) {
  // With external work pending, a 1-hour timer must not fire before it is done.
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    auto fut = loop.create_future<int>();
    loop.call_later(3600s, [&] { log("timer"); });
    loop.begin_external();
    std::thread worker([&loop, &fut] {
      std::this_thread::sleep_for(10ms);
      loop.call_soon_threadsafe([&loop, &fut] {
        loop.end_external();
        fut.set_result(1);
      });
    });
    co_await fut;
    log("external done");
    worker.join();
    co_await asyncio::sleep(3601s);
  }());
  EXPECT_THAT(log.items, ElementsAre("external done", "timer"));
}

TEST(EventLoop, AnExceptionInACallbackGoesToTheExceptionHandler) {
  std::vector<std::string> seen;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
      seen.push_back(c.message + ": " + asyncio::exception_repr(c.exception));
    });
    loop.call_soon([] { throw std::invalid_argument("bad"); });
    loop.call_soon([&] { seen.push_back("next callback still runs"); });
    co_await asyncio::sleep(0);
  }());
  EXPECT_THAT(seen, ElementsAre("Exception in callback callback: ValueError('bad')", "next callback still runs"));
}

TEST(EventLoop, GetRunningLoopOutsideALoopThrowsRuntimeError) {
  EXPECT_THROW(asyncio::get_running_loop(), asyncio::RuntimeError);
  EXPECT_THROW(asyncio::current_task(), asyncio::RuntimeError);
}

TEST(EventLoop, DebugModeLogsSlowCallbacks) {
  testing::internal::CaptureStderr();
  asyncio::run(
      []() -> asyncio::Coro<> {
        auto& loop = asyncio::get_running_loop();
        loop.slow_callback_duration = 0.0;  // every callback counts as slow
        loop.call_soon([] {});
        co_await asyncio::sleep(0);
      }(),
      asyncio::RunOptions{.debug = true, .virtual_time = true, .trace_path = {}});
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, testing::HasSubstr("Executing <Handle callback> took"));
  EXPECT_THAT(err, testing::HasSubstr("Executing <Task"));
}

asyncio::Coro<> never_awaited_coroutine() { co_return; }

TEST(EventLoop, DebugModeReportsACoroutineThatWasNeverAwaited) {
  std::vector<std::string> seen;
  asyncio::run(
      [&]() -> asyncio::Coro<> {
        asyncio::get_running_loop().set_exception_handler(
            [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { seen.push_back(c.message); });
        { auto forgotten = never_awaited_coroutine(); }
        co_return;
      }(),
      asyncio::RunOptions{.debug = true, .virtual_time = true, .trace_path = {}});
  EXPECT_THAT(seen, ElementsAre(testing::StartsWith(
                        "coroutine 'never_awaited_coroutine' was never awaited\nCoroutine created in task '")));
}

TEST(EventLoop, DebugModeRejectsCallSoonFromAnotherThread) {
  bool rejected = false;
  asyncio::run(
      [&]() -> asyncio::Coro<> {
        auto& loop = asyncio::get_running_loop();
        std::thread([&] {
          try {
            loop.call_soon([] {});
          } catch (const asyncio::RuntimeError&) {
            rejected = true;
          }
        }).join();
        co_return;
      }(),
      asyncio::RunOptions{.debug = true, .virtual_time = true, .trace_path = {}});
  EXPECT_TRUE(rejected);
}

TEST(EventLoop, StopFinishesTheCurrentIterationFirst) {
  test::Log log;
  asyncio::EventLoop loop(true);
  loop.call_soon([&] {
    log("a");
    loop.stop();
  });
  loop.call_soon([&] { log("b"); });
  loop.run_forever();
  loop.call_soon([&] { log("c"); });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  loop.close();
  EXPECT_THAT(log.items, ElementsAre("a", "b", "c"));
  EXPECT_THROW(loop.run_forever(), asyncio::RuntimeError);  // closed
}

TEST(EventLoop, PrintsItsState) {
  asyncio::EventLoop loop(true);
  loop.call_soon([] {});
  std::ostringstream os;
  os << loop;
  EXPECT_EQ(os.str(), "<EventLoop running=False closed=False debug=False ready=1 timers=0 tasks=0 virtual_time>");
}

}  // namespace
