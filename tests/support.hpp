#pragma once
// Helpers shared by the tests: virtual-time runs and an event log.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "asyncio/runners.hpp"

/// EXPECT_THROW that also checks what() (the exception's message, Python's str(e)).
#define EXPECT_THROW_MSG(statement, E, message)                     \
  EXPECT_THROW(                                                    \
      {                                                            \
        try {                                                      \
          statement;                                               \
        } catch (const E& caught_) {                               \
          EXPECT_EQ(std::string(caught_.what()), message);        \
          throw;                                                   \
        }                                                          \
      },                                                           \
      E)

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
