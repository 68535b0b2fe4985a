// Pitfall: a coroutine lambda's captures live in the lambda object, and the
// lambda object dies at the end of the full expression that called it. The
// coroutine frame keeps only a pointer to it; after the first suspension the
// captures are gone. Build it with `make sanitize`'s flags to see ASan say so.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <string>

using namespace std::chrono_literals;

asyncio::Coro<> main_() {
  std::string name = "worker";
  // [bug]
  // BUG: [&] and [name] alike: the lambda (and its captures) is a temporary.
  auto t = asyncio::create_task([name]() -> asyncio::Coro<> {
    co_await asyncio::sleep(1s);
    fmt::print("{} done\n", name);  // reads the destroyed lambda's copy of name
  }());
  // [end]
  co_await t;
}

int main() { asyncio::run(main_()); }
