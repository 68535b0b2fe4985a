// Pitfall: a forgotten co_await. In Python, `asyncio.sleep(1)` without await
// makes a coroutine object that never runs ("coroutine ... was never awaited").
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

using namespace std::chrono_literals;

asyncio::Coro<> say(const char* what) {
  co_await asyncio::sleep(1s);
  fmt::print("{}\n", what);
}

asyncio::Coro<> main_() {
  // [bug]
  asyncio::sleep(1s);  // forgot co_await: nothing waits
  say("hello");        // forgot co_await: say never runs
  // [end]
  co_return;
}

int main() { asyncio::run(main_()); }
