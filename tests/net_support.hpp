#pragma once
// Helpers for the network tests: real sockets on 127.0.0.1, the real clock,
// and a watchdog so that a hang fails the test instead of stalling CI.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "asyncio/runners.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/transports.hpp"

namespace net {

using namespace std::chrono_literals;

/// Cancels `main` after `limit` (real time) and fails the test.
inline asyncio::Coro<void> watchdog(asyncio::AnyTask main, std::chrono::seconds limit) {
  co_await asyncio::sleep(limit);
  ADD_FAILURE() << "still running after " << limit.count() << " s: a hang";
  main.cancel();
}

template <class T>
asyncio::Coro<T> guarded(asyncio::Coro<T> main, std::chrono::seconds limit) {
  auto task = asyncio::create_task(std::move(main));
  auto dog = asyncio::create_task(watchdog(task, limit));
  std::exception_ptr exc;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await task;
    } else {
      auto v = co_await task;
      dog.cancel();
      co_return v;
    }
  } catch (...) {
    exc = std::current_exception();
  }
  dog.cancel();
  if (exc) std::rethrow_exception(exc);
}

/// Runs `main` on a fresh loop on the real clock under a watchdog (and a
/// process alarm as the last resort), then checks that no coroutine frame and
/// no libuv handle outlived the loop.
template <class T>
T run(asyncio::Coro<T> main, std::chrono::seconds limit = 60s, bool debug = false) {
  ::alarm(static_cast<unsigned>(limit.count() + 30));
  struct After {
    ~After() {
      ::alarm(0);
      EXPECT_EQ(asyncio::detail::t_live_frames, 0) << "coroutine frames outlived the loop";
      EXPECT_EQ(asyncio::detail::uv_handles_alive(), 0u) << "libuv handles outlived the loop";
    }
  } after;
  return asyncio::run(guarded(std::move(main), limit), asyncio::RunOptions{.debug = debug, .virtual_time = false, .trace_path = {}});
}

}  // namespace net
