// Coro<T>: laziness, ownership, frames (coroutines.hpp).
#include "asyncio/coroutines.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "asyncio/tasks.hpp"
#include "support.hpp"

using namespace std::chrono_literals;

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

// A coroutine's result is kept without std::optional (issue 10: the "has a
// value" flag is a bit of the task state). A value with no default constructor
// is built once in the frame, taken out by the awaiter, and the frame's copy
// goes with the frame; a task that cancels itself in its last step ends
// cancelled and drops the value it returned at once.
// Python: tests/python/coro_result_slot.py prints "7", "cancelled True".
struct Live {
  static inline int alive = 0;
  explicit Live(int value) : v(value) { ++alive; }
  Live(const Live& o) : v(o.v) { ++alive; }
  Live& operator=(const Live&) = delete;
  ~Live() { --alive; }
  int v;
};
asyncio::Coro<Live> make_live(int v) { co_return Live(v); }
asyncio::Coro<Live> cancel_self_then_return() {
  asyncio::current_task().cancel();
  co_return Live(9);
}

TEST(Coro, AResultWithoutDefaultConstructorIsMovedOutAndDestroyedOnce) {
  Live::alive = 0;
  std::vector<std::string> got;
  test::run_virtual([&]() -> asyncio::Coro<> {
    Live a = co_await make_live(7);
    got.push_back(std::to_string(a.v) + " alive=" + std::to_string(Live::alive));
    auto t = asyncio::create_task(cancel_self_then_return());
    try {
      co_await t;
    } catch (const asyncio::CancelledError&) {
      got.push_back("cancelled " + std::to_string(t.cancelled()) + " alive=" + std::to_string(Live::alive));
    }
  }());
  EXPECT_THAT(got, testing::ElementsAre("7 alive=1", "cancelled 1 alive=1"));
  EXPECT_EQ(Live::alive, 0);
  test::expect_no_frames();
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

asyncio::Coro<int> other_named_coroutine(int x) { co_return x; }

TEST(Coro, KnowsTheNameOfItsFunction) {
  auto c = named_coroutine("not the name");
  EXPECT_STREQ(c.name(), "named_coroutine");
}

// The name is not in the promise: it is found from the frame's destroy
// function (detail::coroutine_name_of), through this thread's cache or, for a
// frame made on another thread, the global table.
TEST(Coro, FindsTheNamesOfFramesMadeHereAndOnAnotherThread) {
  auto a = named_coroutine("x");
  auto b = other_named_coroutine(1);
  auto a2 = named_coroutine("y");
  EXPECT_STREQ(a.name(), "named_coroutine");
  EXPECT_STREQ(b.name(), "other_named_coroutine");
  EXPECT_STREQ(a2.name(), "named_coroutine");
  asyncio::Coro<int> made_there;
  std::string seen_there;
  std::thread([&] {
    made_there = other_named_coroutine(2);  // registered in that thread's cache and the global table
    seen_there = a.name();                  // made here: not in that thread's cache
  }).join();
  EXPECT_STREQ(made_there.name(), "other_named_coroutine");
  EXPECT_EQ(seen_there, "named_coroutine");
  std::thread([&] { made_there = {}; }).join();  // each thread counts its own frames (expect_no_frames)
}

// Python (3.11-3.13), `try: ... finally:` with a finally that awaits:
//
//   import asyncio
//   async def work(fail):
//       await asyncio.sleep(1)
//       if fail:
//           raise ValueError("work failed")
//       return 7
//   async def main():
//       loop = asyncio.get_running_loop(); t0 = loop.time(); log = []
//       async def run(body):
//           try:
//               return await body
//           finally:
//               await asyncio.sleep(1)
//               log.append(f"cleanup at {loop.time() - t0:.0f}")
//       print(await run(work(False)))
//       try: await run(work(True))
//       except ValueError as e: print(repr(e))
//       t = asyncio.create_task(run(asyncio.sleep(10)))
//       await asyncio.sleep(1); t.cancel()
//       try: await t
//       except asyncio.CancelledError: pass
//       print(t.cancelled(), log)
//   asyncio.run(main())
//
// prints
//   7
//   ValueError('work failed')
//   True ['cleanup at 2', 'cleanup at 4', 'cleanup at 6']
TEST(TryFinally, AwaitsTheCleanupHoweverTheBodyEndsAndRethrows) {
  test::Log log;
  int value = 0;
  std::string error;
  bool cancelled = false;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    double t0 = loop.time();
    auto work = [](bool fail) -> asyncio::Coro<int> {
      co_await asyncio::sleep(1s);
      if (fail) throw asyncio::ValueError("work failed");
      co_return 7;
    };
    auto cleanup = [&]() -> asyncio::Coro<> {
      co_await asyncio::sleep(1s);
      log("cleanup at " + std::to_string(static_cast<int>(loop.time() - t0 + 0.5)));
    };
    value = co_await asyncio::try_finally([&] { return work(false); }, cleanup);
    try {
      co_await asyncio::try_finally([&] { return work(true); }, cleanup);
    } catch (const asyncio::ValueError& e) {
      error = e.what();
    }
    auto t = asyncio::create_task(asyncio::try_finally([]() { return asyncio::sleep(10s); }, cleanup));
    co_await asyncio::sleep(1s);
    t.cancel();
    try {
      co_await t;
    } catch (const asyncio::CancelledError&) {
    }
    cancelled = t.cancelled();
  }());
  EXPECT_EQ(value, 7);
  EXPECT_EQ(error, "work failed");
  EXPECT_TRUE(cancelled);
  EXPECT_THAT(log.items, testing::ElementsAre("cleanup at 2", "cleanup at 4", "cleanup at 6"));
}

// Issue 8, defect 7: a loop closing on a deep chain of suspended inline
// coroutines destroyed it by recursion (one C++ level per coroutine) and
// overflowed the stack from ~150k levels. Running and unwinding such a chain
// worked; tearing it down unresumed must too, and free every frame.
asyncio::Coro<int> deep_chain(int n, asyncio::Future<int>& never) {
  if (n == 0) co_return co_await never;
  co_return 1 + co_await deep_chain(n - 1, never);
}

// Issue 10: an inline coroutine's promise holds only what an inline await
// needs (the awaiting coroutine or the task, the result or exception, the
// name), so that a level of `co_return 1 + co_await f(n - 1)` costs 80 bytes
// (the target is at most 96) and the task state is allocated by create_task.
[[maybe_unused]] asyncio::Coro<long> chain_level(long n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await chain_level(n - 1);
}
static_assert(sizeof(asyncio::detail::Promise<long>) == 16, "word, union{long, exception_ptr}: the name is found from the frame");
static_assert(sizeof(asyncio::detail::Promise<void>) == 16);
static_assert(sizeof(asyncio::detail::TaskImpl<long>) <= 56, "W1's bytes per task must not grow");

#ifndef ASYNCIO_POOL_DISABLED
/// The size class (16 bytes apart) of the frame `make()` creates: the free
/// list that gains a block when the frame, made and not run, is destroyed.
template <class Make>
std::size_t frame_class_of(Make make) {
  constexpr std::size_t kGranule = asyncio::detail::FramePool::kFrameGranule;
  constexpr std::size_t kMax = asyncio::detail::FramePool::kGranule * (asyncio::detail::FramePool::kClasses - 1);
  std::optional<decltype(make())> c(make());
  std::vector<std::size_t> alive;  // counted while the frame is alive: whether it came from a list or a slab
  for (std::size_t size = kGranule; size <= kMax; size += kGranule)
    alive.push_back(asyncio::detail::pool_free_blocks(size));
  c.reset();
  std::size_t frame_class = 0;
  for (std::size_t size = kGranule, i = 0; size <= kMax; size += kGranule, ++i)
    if (asyncio::detail::pool_free_blocks(size) == alive[i] + 1) frame_class = size;
  return frame_class;
}
#endif

TEST(Coro, AChainLevelFrameFitsTheEightyByteSizeClass) {
#ifdef ASYNCIO_POOL_DISABLED
  GTEST_SKIP() << "the frame pool is bypassed under AddressSanitizer";
#else
  std::size_t frame_class = frame_class_of([] { return chain_level(3); });
  EXPECT_GT(frame_class, 0u);    // found: the frame came from the pool
  EXPECT_LE(frame_class, 80u);   // g++ 12: 80, clang 14: 64
  test::expect_no_frames();
#endif
}

// W1's coroutine. Its g++ 12 frame: the header and self handle (24 bytes),
// the promise (16: no name), `i`, the resume index and flags, the three
// awaiters (sleep's word kept as bytes, so that it packs beside the one-byte
// ones): 64 bytes, where the name and an 8-aligned word made it 80.
[[maybe_unused]] asyncio::Coro<long> w1_work(long i) {
  co_await asyncio::sleep(0);
  co_return i;
}

TEST(Coro, AFrameAwaitingSleepFitsTheSixtyFourByteSizeClass) {
#ifdef ASYNCIO_POOL_DISABLED
  GTEST_SKIP() << "the frame pool is bypassed under AddressSanitizer";
#else
  std::size_t frame_class = frame_class_of([] { return w1_work(3); });
  EXPECT_GT(frame_class, 0u);
  EXPECT_LE(frame_class, 64u);
  test::expect_no_frames();
#endif
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
