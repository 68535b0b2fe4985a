// Twin of coroutines.py: a coroutine prints, sleeps 5 seconds, prints again.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

using namespace std::chrono_literals;

asyncio::Coro<> main_() {
  fmt::print("hello\n");
  co_await asyncio::sleep(5s);
  fmt::print("world\n");
}

int main() { asyncio::run(main_()); }
