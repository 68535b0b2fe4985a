// Twin of wait_all_completed.py: wait(ALL_COMPLETED) returns when every task is
// done, whether it returned or raised; wait itself never raises their errors.
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
  auto r = asyncio::ensure_future(raiser());
  auto h = asyncio::create_task(asyncio::sleep(1s, std::string("I have returned!")));
  // Python's set {r, h}. (A named vector: g++ 12 rejects a braced list inside a
  // co_await expression, "array used as initializer"; clang takes `wait({r, h}, ...)`.)
  std::vector<asyncio::AnyTask> fs{r, h};
  auto [done, pending] = co_await asyncio::wait(fs, asyncio::ALL_COMPLETED);
  check(done.contains(r) && done.contains(h), "r in done and h in done");
  fmt::print("{}\n", asyncio::exception_message(r.exception()));  // print(r.exception())
  fmt::print("{}\n", h.result());
}

int main() { asyncio::run(main_()); }
