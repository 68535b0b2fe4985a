// Twin of wait_first_exception.py: wait(FIRST_EXCEPTION) returns as soon as a
// task raises; the sleeping one is still pending (run() cancels it at the end).
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

asyncio::Coro<> raiser() {
  throw std::runtime_error("An exception was raised");
  co_return;
}

asyncio::Coro<> main_() {
  auto r = asyncio::create_task(raiser());
  auto h = asyncio::create_task(asyncio::sleep(1s, std::string("I have returned!")));
  // Python's set {r, h}. (A named vector: g++ 12 rejects a braced list inside a
  // co_await expression, "array used as initializer"; clang takes `wait({r, h}, ...)`.)
  std::vector<asyncio::AnyTask> fs{r, h};
  auto [done, pending] = co_await asyncio::wait(fs, asyncio::FIRST_EXCEPTION);
  check(done.contains(r) && pending.contains(h), "r in done and h in pending");
  fmt::print("{}\n", asyncio::exception_message(r.exception()));  // print(r.exception())
  bool thrown = false;
  try {
    fmt::print("{}\n", h.result());
  } catch (const asyncio::InvalidStateError&) {
    thrown = true;
  }
  check(thrown, "thrown");
}

int main() { asyncio::run(main_()); }
