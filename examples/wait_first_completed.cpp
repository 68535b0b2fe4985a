// Twin of wait_first_completed.py: wait(FIRST_COMPLETED) returns as soon as one
// task is done; the other is still pending (its result() is not ready).
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// Python's `assert`: a failed check ends the program with an error.
void check(bool ok, const char* what) {
  if (!ok) throw std::logic_error(std::string("AssertionError: ") + what);
}

asyncio::Coro<> main_() {
  auto fast = asyncio::create_task(asyncio::sleep(1s, std::string("Fast returned!")));
  auto slow = asyncio::create_task(asyncio::sleep(2s, std::string("Slow returned!")));
  // Python's set {fast, slow}. (A named vector: g++ 12 rejects a braced list inside a
  // co_await expression, "array used as initializer"; clang takes `wait({fast, slow}, ...)`.)
  std::vector<asyncio::AnyTask> fs{fast, slow};
  auto [done, pending] = co_await asyncio::wait(fs, asyncio::FIRST_COMPLETED);
  check(done.contains(fast) && pending.contains(slow), "fast in done and slow in pending");
  fmt::print("{}\n", fast.result());
  bool thrown = false;
  try {
    fmt::print("{}\n", slow.result());
  } catch (const asyncio::InvalidStateError&) {
    thrown = true;
  }
  check(thrown, "thrown");
}

int main() { asyncio::run(main_()); }
