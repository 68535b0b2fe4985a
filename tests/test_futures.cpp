// Futures: completion, callbacks, cancellation, reporting (futures.hpp).
#include "asyncio/futures.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "asyncio/tasks.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using testing::ElementsAre;

namespace {

TEST(Future, AwaitingReturnsTheResultOnceItIsSet) {
  int v = test::run_virtual([]() -> asyncio::Coro<int> {
    auto& loop = asyncio::get_running_loop();
    auto fut = loop.create_future<int>();
    loop.call_later(1s, [fut]() mutable { fut.set_result(42); });
    co_return co_await fut;
  }());
  EXPECT_EQ(v, 42);
  test::expect_no_frames();
}

TEST(Future, SettingTwiceThrowsInvalidStateError) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto fut = asyncio::get_running_loop().create_future<int>();
    fut.set_result(1);
    EXPECT_THROW(fut.set_result(2), asyncio::InvalidStateError);
    EXPECT_THROW(fut.set_exception(std::runtime_error("x")), asyncio::InvalidStateError);
    EXPECT_FALSE(fut.cancel());
    EXPECT_EQ(fut.result(), 1);
    co_return;
  }());
}

TEST(Future, ResultBeforeDoneThrowsInvalidStateError) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto fut = asyncio::get_running_loop().create_future<int>();
    EXPECT_THROW(fut.result(), asyncio::InvalidStateError);
    EXPECT_THROW(fut.exception(), asyncio::InvalidStateError);
    fut.cancel();
    co_return;
  }());
}

TEST(Future, ACancelledFutureThrowsCancelledErrorToItsAwaiter) {
  std::string msg;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    auto fut = loop.create_future<>();
    loop.call_soon([fut]() mutable { fut.cancel("gone"); });
    try {
      co_await fut;
    } catch (const asyncio::CancelledError& e) {
      msg = e.what();
    }
    EXPECT_TRUE(fut.cancelled());
    EXPECT_THROW(fut.exception(), asyncio::CancelledError);
  }());
  EXPECT_EQ(msg, "gone");
}

TEST(Future, AnExceptionIsRethrownToTheAwaiter) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto fut = asyncio::get_running_loop().create_future<int>();
    fut.set_exception(std::out_of_range("nope"));
    EXPECT_THROW(co_await fut, std::out_of_range);
    EXPECT_THAT(asyncio::exception_repr(fut.exception()), testing::Eq("IndexError('nope')"));
  }());
}

TEST(Future, DoneCallbacksAreScheduledNotCalledInline) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto fut = asyncio::get_running_loop().create_future<int>();
    fut.add_done_callback([&](asyncio::Future<int>& f) { log("callback " + std::to_string(f.result())); });
    fut.set_result(3);
    log("after set_result");
    co_await asyncio::sleep(0);
    fut.add_done_callback([&] { log("added when done"); });  // scheduled at once
    log("after add");
    co_await asyncio::sleep(0);
  }());
  EXPECT_THAT(log.items, ElementsAre("after set_result", "callback 3", "after add", "added when done"));
}

TEST(Future, AwaitingADoneFutureDoesNotYield) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    auto fut = loop.create_future<int>();
    fut.set_result(1);
    loop.call_soon([&] { log("callback"); });
    co_await fut;
    log("after await");
    co_await asyncio::sleep(0);
  }());
  EXPECT_THAT(log.items, ElementsAre("after await", "callback"));
}

TEST(Future, AnUnretrievedExceptionIsReportedWhenTheLastHandleGoes) {
  std::vector<std::string> seen;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    loop.set_exception_handler(
        [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { seen.push_back(c.message + " " + c.task); });
    {
      auto fut = loop.create_future<int>();
      fut.set_exception(std::runtime_error("lost"));
    }
    co_return;
  }());
  EXPECT_THAT(seen, ElementsAre("Future exception was never retrieved <Future finished exception=RuntimeError('lost')>"));
}

TEST(Future, PrintsItsState) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto fut = asyncio::get_running_loop().create_future<int>();
    std::ostringstream a, b;
    a << fut;
    fut.set_result(5);
    b << fut;
    EXPECT_EQ(a.str(), "<Future pending>");
    EXPECT_EQ(b.str(), "<Future finished result=5>");
    co_return;
  }());
}

// Issue 8, defect 6: awaiting an empty (default or moved-from) Future handle
// raised nothing and dereferenced null. Python has no empty future; the nearest
// form is the InvalidStateError every other member of an empty handle throws.
TEST(Future, AwaitingAnEmptyHandleThrowsInvalidStateError) {
  std::vector<std::string> got;
  test::run_virtual([&]() -> asyncio::Coro<> {
    asyncio::Future<int> empty;
    auto f = asyncio::get_running_loop().create_future<int>();
    auto moved = std::move(f);
    moved.set_result(1);
    for (asyncio::Future<int>* p : {&empty, &f}) {
      try {
        co_await *p;
      } catch (const asyncio::InvalidStateError& e) {
        got.push_back(e.what());
      }
    }
  }());
  EXPECT_THAT(got, ElementsAre("empty Future handle", "empty Future handle"));
  test::expect_no_frames();
}

}  // namespace
