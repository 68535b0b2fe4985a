// Coro<T>: laziness, ownership, frames (coroutines.hpp).
#include "asyncio/coroutines.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "asyncio/tasks.hpp"
#include "support.hpp"

namespace {

/// Counts live instances: proves frames free what they hold.
struct Counted {
  static inline int alive = 0;
  Counted() { ++alive; }
  Counted(const Counted&) { ++alive; }
  ~Counted() { --alive; }
};

asyncio::Coro<int> holds(Counted c) {
  (void)c;
  co_return Counted::alive;
}

TEST(Coro, DoesNotStartUntilAwaitedAndFreesItsFrameWhenDestroyed) {
  Counted::alive = 0;
  {
    auto c = holds(Counted{});
    EXPECT_EQ(Counted::alive, 1);  // the parameter lives in the frame
    EXPECT_EQ(asyncio::detail::t_live_frames, 1);
  }
  // Destroyed without running (a Coro owns its frame): parameter and frame are gone.
  EXPECT_EQ(Counted::alive, 0);
  EXPECT_EQ(asyncio::detail::t_live_frames, 0);
}

TEST(Coro, AwaitedCoroutineFreesItsFrameAndParameters) {
  Counted::alive = 0;
  int seen = test::run_virtual([]() -> asyncio::Coro<int> { co_return co_await holds(Counted{}); }());
  EXPECT_EQ(seen, 2);  // the frame's copy and the caller's temporary
  EXPECT_EQ(Counted::alive, 0);
  test::expect_no_frames();
}

TEST(Coro, IsMoveOnlyAndAMovedFromCoroutineCannotBeAwaited) {
  static_assert(!std::is_copy_constructible_v<asyncio::Coro<int>>);
  static_assert(std::is_nothrow_move_constructible_v<asyncio::Coro<int>>);
  test::run_virtual([]() -> asyncio::Coro<> {
    auto a = []() -> asyncio::Coro<int> { co_return 3; }();
    auto b = std::move(a);
    EXPECT_FALSE(static_cast<bool>(a));
    EXPECT_TRUE(static_cast<bool>(b));
    EXPECT_THROW(co_await a, asyncio::RuntimeError);
    EXPECT_EQ(co_await b, 3);
    EXPECT_FALSE(static_cast<bool>(b));  // awaited
  }());
  test::expect_no_frames();
}

asyncio::Coro<> named_coroutine(const char* label) {
  (void)label;
  co_return;
}

TEST(Coro, KnowsTheNameOfItsFunction) {
  auto c = named_coroutine("not the name");
  EXPECT_STREQ(c.name(), "named_coroutine");
}

// Issue 8, defect 7: a loop closing on a deep chain of suspended inline
// coroutines destroyed it by recursion (one C++ level per coroutine) and
// overflowed the stack from ~150k levels. Running and unwinding such a chain
// worked; tearing it down unresumed must too, and free every frame.
asyncio::Coro<int> deep_chain(int n, asyncio::Future<int>& never) {
  if (n == 0) co_return co_await never;
  co_return 1 + co_await deep_chain(n - 1, never);
}

TEST(Coro, ADeepSuspendedChainIsTornDownAtLoopCloseWithoutOverflowingTheStack) {
  constexpr int kDepth = 300'000;
  {
    asyncio::EventLoop loop(true);
    auto never = loop.create_future<int>();
    auto task = loop.create_task(deep_chain(kDepth, never));
    auto until_suspended = loop.create_task([]() -> asyncio::Coro<> {
      co_await asyncio::sleep(0);  // the deep task runs down to `never` meanwhile
      co_await asyncio::sleep(0);
    }());
    loop.run_until_complete(until_suspended);
    EXPECT_FALSE(task.done());
    EXPECT_GT(asyncio::detail::t_live_frames, kDepth);
    task = {};
    loop.close();  // "Task was destroyed but it is pending!", then the chain goes
  }
  test::expect_no_frames();
}

}  // namespace
