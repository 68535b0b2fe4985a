// Coro<T>: laziness, ownership, frames (coroutines.hpp).
#include "asyncio/coroutines.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
