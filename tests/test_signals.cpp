// loop.add_signal_handler / remove_signal_handler (events.hpp, src/unix_signals.cpp).
//
// The Python behaviour each test follows (CPython 3.11, unix_events.py):
//
//   async def main():
//       loop = asyncio.get_running_loop()
//       loop.add_signal_handler(signal.SIGUSR2, log.append, "usr2")
//       loop.add_signal_handler(signal.SIGUSR1, log.append, "usr1")
//       os.kill(os.getpid(), signal.SIGUSR2); os.kill(os.getpid(), signal.SIGUSR1)
//       os.kill(os.getpid(), signal.SIGUSR2)
//       print(log)                      # [] : handlers run later, as callbacks
//       await asyncio.sleep(0.1)
//       print(log)                      # ['usr2', 'usr1', 'usr2']
//       print(loop.remove_signal_handler(signal.SIGUSR1),
//             loop.remove_signal_handler(signal.SIGUSR1))   # True False
//   # add_signal_handler(0 / 32 / 65, ...)  -> ValueError: invalid signal number 0
//   # add_signal_handler(SIGKILL, ...)      -> RuntimeError: sig 9 cannot be caught
//   # on a closed loop                      -> RuntimeError: Event loop is closed
//   # on another thread's loop              -> RuntimeError (main thread only);
//   #                                          remove_signal_handler there -> False
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "asyncio/events.hpp"
#include "asyncio/locks.hpp"
#include "asyncio/runners.hpp"
#include "support.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using testing::ElementsAre;

namespace {

bool disposition_is_default(int sig) {
  struct sigaction sa {};
  sigaction(sig, nullptr, &sa);
  return (sa.sa_flags & SA_SIGINFO) == 0 && sa.sa_handler == SIG_DFL;
}

template <class Ex, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Ex& e) {
    return e.what();
  }
  return "no error";
}

TEST(Signals, HandlersRunOnTheLoopAsCallbacksInTheOrderSignalsArrive) {
  test::Watchdog dog("test_signals", 30s);
  test::Log log;
  std::vector<std::string> right_after_kill;
  asyncio::run([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    asyncio::Event all_seen;
    auto record = [&](std::string name) {
      log(std::move(name));
      if (log.items.size() == 3) all_seen.set();
    };
    loop.add_signal_handler(SIGUSR2, record, std::string("usr2"));
    loop.add_signal_handler(SIGUSR1, record, std::string("usr1"));
    kill(getpid(), SIGUSR2);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR2);
    right_after_kill = log.items;
    co_await all_seen.wait();
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR2));
  }());
  EXPECT_TRUE(right_after_kill.empty());
  EXPECT_THAT(log.items, ElementsAre("usr2", "usr1", "usr2"));
  test::expect_no_frames();
}

TEST(Signals, ASignalIsSeenBeforeVirtualTimeJumps) {
  double seen_at = -1;
  double start = 0;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    start = loop.time();
    loop.add_signal_handler(SIGUSR1, [&] { seen_at = asyncio::get_running_loop().time(); });
    kill(getpid(), SIGUSR1);
    co_await asyncio::sleep(3600s);
  }());
  EXPECT_EQ(seen_at, start);
  test::expect_no_frames();
}

TEST(Signals, ABusyLoopStillSeesSignals) {
  test::Watchdog dog("test_signals", 30s);
  bool seen = false;
  int iterations = 0;
  asyncio::run([&]() -> asyncio::Coro<> {
    asyncio::get_running_loop().add_signal_handler(SIGUSR1, [&] { seen = true; });
    kill(getpid(), SIGUSR1);
    while (!seen && ++iterations < 100'000) co_await asyncio::sleep(0s);  // never blocks in libuv
  }());
  EXPECT_TRUE(seen);
  EXPECT_LT(iterations, 100'000);
  test::expect_no_frames();
}

TEST(Signals, ASecondHandlerReplacesTheFirstAndRemovingRestoresTheDefault) {
  test::Watchdog dog("test_signals", 30s);
  test::Log log;
  bool removed_again = true;
  asyncio::run([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    asyncio::Event seen;
    loop.add_signal_handler(SIGUSR1, [&] { log("first"); });
    loop.add_signal_handler(SIGUSR1, [&] {
      log("second");
      seen.set();
    });
    EXPECT_FALSE(disposition_is_default(SIGUSR1));
    kill(getpid(), SIGUSR1);
    co_await seen.wait();
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    removed_again = loop.remove_signal_handler(SIGUSR1);
    EXPECT_TRUE(disposition_is_default(SIGUSR1));
  }());
  EXPECT_THAT(log.items, ElementsAre("second"));
  EXPECT_FALSE(removed_again);
  test::expect_no_frames();
}

TEST(Signals, ClosingTheLoopRemovesItsHandlers) {
  test::run_virtual([&]() -> asyncio::Coro<> {
    asyncio::get_running_loop().add_signal_handler(SIGUSR2, [] {});
    co_return;
  }());
  EXPECT_TRUE(disposition_is_default(SIGUSR2));
  test::expect_no_frames();
}

TEST(Signals, InvalidSignalsAndUncatchableSignalsAreRefusedAsInPython) {
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    auto add = [&](int sig) { loop.add_signal_handler(sig, [] {}); };
    EXPECT_EQ(error_of<asyncio::ValueError>([&] { add(0); }), "invalid signal number 0");
    EXPECT_EQ(error_of<asyncio::ValueError>([&] { add(32); }), "invalid signal number 32");
    EXPECT_EQ(error_of<asyncio::ValueError>([&] { add(65); }), "invalid signal number 65");
    EXPECT_EQ(error_of<asyncio::ValueError>([&] { loop.remove_signal_handler(-1); }), "invalid signal number -1");
    EXPECT_EQ(error_of<asyncio::RuntimeError>([&] { add(SIGKILL); }), "sig 9 cannot be caught");
    EXPECT_EQ(error_of<asyncio::RuntimeError>([&] { add(SIGSTOP); }), "sig 19 cannot be caught");
    EXPECT_FALSE(loop.remove_signal_handler(SIGKILL));
    co_return;
  }());
  asyncio::EventLoop closed;
  closed.close();
  EXPECT_EQ(error_of<asyncio::RuntimeError>([&] { closed.add_signal_handler(SIGUSR1, [] {}); }),
            "Event loop is closed");
  test::expect_no_frames();
}

TEST(Signals, OnlyTheMainThreadsLoopsHandleSignals) {
  std::string error;
  bool removed = true;
  std::thread([&] {
    asyncio::EventLoop loop;
    error = error_of<asyncio::RuntimeError>([&] { loop.add_signal_handler(SIGUSR1, [] {}); });
    removed = loop.remove_signal_handler(SIGUSR1);
    loop.close();
  }).join();
  EXPECT_EQ(error, "add_signal_handler() only works in the main thread");
  EXPECT_FALSE(removed);
}

// Threads meet here (label `threads`): a signal sent by another thread, and
// possibly delivered on it, runs its handler on the loop's thread.
TEST(Signals, ASignalSentFromAnotherThreadRunsItsHandlerOnTheLoopThread) {
  test::Watchdog dog("test_signals", 30s);
  std::thread::id handler_thread;
  std::thread::id loop_thread;
  asyncio::run([&]() -> asyncio::Coro<> {
    loop_thread = std::this_thread::get_id();
    asyncio::Event seen;
    asyncio::get_running_loop().add_signal_handler(SIGUSR1, [&] {
      handler_thread = std::this_thread::get_id();
      seen.set();
    });
    std::thread sender([] { kill(getpid(), SIGUSR1); });
    co_await seen.wait();
    sender.join();
  }());
  EXPECT_EQ(handler_thread, loop_thread);
  test::expect_no_frames();
}

}  // namespace
