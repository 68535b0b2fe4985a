#pragma once
// Helpers for the scenario tests of test_locks.cpp and test_queues.cpp: each
// scenario is also written in Python, tests/python/<test file>/<scenario>.py
// (helpers in tests/python/twin.py, the same as these), and its log, with
// loop-iteration numbers, is <scenario>.out, which the C++ test reads.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "asyncio/runners.hpp"
#include "asyncio/tasks.hpp"

namespace scenario {

/// Counts loop iterations: a callback that reschedules itself with call_soon,
/// so it runs exactly once per iteration (as the Python twin's Ticker).
struct Ticker {
  int n = 0;
  bool on = true;
  Ticker() { schedule(); }
  Ticker(const Ticker&) = delete;
  void schedule() {
    asyncio::get_running_loop().call_soon([this] { tick(); });
  }
  void tick() {
    if (!on) return;
    if (++n > 1'000'000) {  // a deadlock would spin here forever: fail instead
      ADD_FAILURE() << "the scenario is still running after a million loop iterations";
      for (auto& t : asyncio::all_tasks()) t.cancel();
      return;
    }
    schedule();
  }
  void stop() { on = false; }
};

inline std::vector<std::string>& log() {
  static std::vector<std::string> lines;
  return lines;
}
inline void say(const Ticker& tk, const std::string& s) {
  log().push_back(std::to_string(tk.n) + ": " + s);
}
inline void note(const std::string& s) { log().push_back(s); }

/// repr without the address, as the Python twin prints it.
template <class T>
std::string r(const T& x) {
  std::ostringstream os;
  os << x;
  return std::regex_replace(os.str(), std::regex(" at 0x[0-9a-f]+"), "");
}

/// Awaits each task in turn, ignoring how it ended (the twin's wait_all).
template <class T>
asyncio::Coro<void> wait_all(std::vector<asyncio::Task<T>> tasks) {
  for (auto& t : tasks) {
    try {
      co_await t;
    } catch (...) {
    }
  }
}

/// Cancels `main` if it is still running after an hour of virtual time (a
/// deadlock then fails the test instead of hanging it).
inline asyncio::Coro<void> watchdog(asyncio::AnyTask main) {
  using namespace std::chrono_literals;
  co_await asyncio::sleep(1h);
  ADD_FAILURE() << "the scenario is still running after an hour of virtual time";
  main.cancel();
}

template <class T>
asyncio::Coro<void> guarded(asyncio::Coro<T> main) {
  auto task = asyncio::create_task(std::move(main));
  auto dog = asyncio::create_task(watchdog(task));
  try {
    co_await task;
  } catch (...) {
    dog.cancel();
    throw;
  }
  dog.cancel();
}

/// The expected log of a scenario: tests/python/<key>.out (key
/// "test_locks/lock_fifo"), the exact output of the Python twin <key>.py on
/// CPython. `make twins` (tools/twins.py, also a ctest) reruns the twins and
/// fails when one prints anything else, so an expectation cannot drift away
/// from what CPython does.
inline std::string expected(const std::string& key) {
  std::ifstream f(std::string(ASYNCIO_SOURCE_DIR) + "/tests/python/" + key + ".out");
  if (!f) {
    ADD_FAILURE() << "missing tests/python/" << key << ".out";
    return "<missing " + key + ".out>";
  }
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

/// Runs `main` in virtual time under a watchdog; returns the log, one line
/// each, and checks that no coroutine frame outlives the loop.
template <class T>
std::string run(asyncio::Coro<T> main) {
  log().clear();
  asyncio::RunOptions options;
  options.virtual_time = true;
  asyncio::run(guarded(std::move(main)), options);
  EXPECT_EQ(asyncio::detail::t_live_frames, 0);
  std::string out;
  for (auto& l : log()) out += l + "\n";
  return out;
}

}  // namespace scenario
