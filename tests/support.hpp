#pragma once
// Helpers shared by the tests: virtual-time runs and an event log.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "asyncio/runners.hpp"

namespace test {

/// Runs `main` on a fresh loop in virtual time.
template <class T>
T run_virtual(asyncio::Coro<T> main) {
  return asyncio::run(std::move(main), asyncio::RunOptions{.debug = false, .virtual_time = true, .trace_path = {}});
}

/// Collects what happened, in order.
struct Log {
  std::vector<std::string> items;
  void operator()(std::string s) { items.push_back(std::move(s)); }
};

/// No coroutine frame may outlive the loop.
inline void expect_no_frames() { EXPECT_EQ(asyncio::detail::t_live_frames, 0); }

}  // namespace test
