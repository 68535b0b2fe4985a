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

// ---- messages and types as CPython's (issue 9) ----

// Python (3.11-3.13, the C accelerator's messages):
//
//   f = loop.create_future()
//   f.result()                -> InvalidStateError('Result is not set.')
//   f.exception()             -> InvalidStateError('Exception is not set.')
//   f.set_exception(None)     -> TypeError('invalid exception object')
//   f.set_result(1); f.set_result(2)            -> InvalidStateError('invalid state')
//   f.set_exception(ValueError())               -> InvalidStateError('invalid state')
//   g = loop.create_future(); g.cancel(); g.set_result(2) -> InvalidStateError('invalid state')
TEST(Future, MisuseRaisesCPythonsTypesAndMessages) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    auto f = loop.create_future<int>();
    EXPECT_THROW_MSG(f.result(), asyncio::InvalidStateError, "Result is not set.");
    EXPECT_THROW_MSG((void)f.exception(), asyncio::InvalidStateError, "Exception is not set.");
    EXPECT_THROW_MSG(f.set_exception(std::exception_ptr()), asyncio::TypeError, "invalid exception object");
    f.set_result(1);
    EXPECT_THROW_MSG(f.set_result(2), asyncio::InvalidStateError, "invalid state");
    EXPECT_THROW_MSG(f.set_exception(std::runtime_error("x")), asyncio::InvalidStateError, "invalid state");
    auto g = loop.create_future<int>();
    g.cancel();
    EXPECT_THROW_MSG(g.set_result(2), asyncio::InvalidStateError, "invalid state");
    co_return;
  }());
  test::expect_no_frames();
}

// Python: fut.remove_done_callback(fn) removes every registration of fn and
// returns the count (2, then 0); callbacks that compare unequal stay.
int g_future_callbacks = 0;
void on_future_done(asyncio::Future<int>&) { ++g_future_callbacks; }
struct Counter {  // a functor with ==: equal when it counts into the same place
  int* into;
  void operator()() const { ++*into; }
  friend bool operator==(const Counter&, const Counter&) = default;
};

TEST(Future, RemoveDoneCallbackByCallableRemovesEveryRegistrationAndCountsThem) {
  g_future_callbacks = 0;
  int other = 0;
  std::vector<std::size_t> counts;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto f = asyncio::get_running_loop().create_future<int>();
    f.add_done_callback(on_future_done);
    f.add_done_callback(Counter{&other});
    f.add_done_callback(on_future_done);
    f.add_done_callback(Counter{&g_future_callbacks});
    counts.push_back(f.remove_done_callback(on_future_done));
    counts.push_back(f.remove_done_callback(on_future_done));
    counts.push_back(f.remove_done_callback(Counter{&g_future_callbacks}));
    f.set_result(1);
    co_await asyncio::sleep(0);
  }());
  EXPECT_THAT(counts, ElementsAre(2u, 0u, 1u));
  EXPECT_EQ(g_future_callbacks, 0);
  EXPECT_EQ(other, 1);
}

// The done callbacks are a circular list kept by its last node (issue 10):
// removing the first, a middle or the last one, or emptying the list, keeps
// the order of the rest and of those added later.
// Python (tests/python/future_callback_order.py, run with python3 3.11):
//   f = loop.create_future(); got = []
//   for cb in (a, b, c, d): f.add_done_callback(cb)   # each appends its tag
//   print(f.remove_done_callback(b), f.remove_done_callback(d))   # 1 1
//   f.add_done_callback(e); f.set_result(1); await asyncio.sleep(0)
//   g = loop.create_future(); g.add_done_callback(a)
//   print(g.remove_done_callback(a))                   # 1
//   g.add_done_callback(b); g.add_done_callback(c); g.set_result(2)
//   await asyncio.sleep(0); print(got)                 # ['a', 'c', 'e', 'b', 'c']
struct Tagged {
  std::string* into;
  char tag;
  void operator()() const { *into += tag; }
  friend bool operator==(const Tagged&, const Tagged&) = default;
};

TEST(Future, CallbacksKeepTheirOrderAfterRemovalsAtEitherEnd) {
  std::string got;
  std::vector<std::size_t> counts;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    auto f = loop.create_future<int>();
    for (char t : {'a', 'b', 'c', 'd'}) f.add_done_callback(Tagged{&got, t});
    counts.push_back(f.remove_done_callback(Tagged{&got, 'b'}));
    counts.push_back(f.remove_done_callback(Tagged{&got, 'd'}));
    f.add_done_callback(Tagged{&got, 'e'});
    f.set_result(1);
    co_await asyncio::sleep(0);
    auto g = loop.create_future<int>();
    g.add_done_callback(Tagged{&got, 'a'});
    counts.push_back(g.remove_done_callback(Tagged{&got, 'a'}));
    g.add_done_callback(Tagged{&got, 'b'});
    g.add_done_callback(Tagged{&got, 'c'});
    g.set_result(2);
    co_await asyncio::sleep(0);
  }());
  EXPECT_THAT(counts, ElementsAre(1u, 1u, 1u));
  EXPECT_EQ(got, "acebc");
  test::expect_no_frames();
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
