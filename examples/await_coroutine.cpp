// Twin of await_coroutine.py: awaiting coroutines runs them one after the
// other (1 s + 2 s = 3 s).
#include <asyncio/asyncio.hpp>
#include <fmt/chrono.h>
#include <fmt/core.h>

#include <ctime>

asyncio::Coro<> say_after(int delay, const char* what) {
  fmt::print("Say:  {} After:  {}\n", what, delay);
  co_await asyncio::sleep(std::chrono::seconds(delay));
  fmt::print("{}\n", what);
}

asyncio::Coro<> main_() {
  fmt::print("started at {:%X}\n", fmt::localtime(std::time(nullptr)));
  co_await say_after(1, "hello");
  co_await say_after(2, "world");
  fmt::print("finished at {:%X}\n", fmt::localtime(std::time(nullptr)));
}

int main() { asyncio::run(main_()); }
