// Twin of await_tasks.py: two tasks run concurrently (max(2 s, 1 s) = 2 s).
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
  auto t1 = asyncio::create_task(say_after(2, "hello"));
  auto t2 = asyncio::create_task(say_after(1, "world"));
  fmt::print("started at {:%X}\n", fmt::localtime(std::time(nullptr)));
  co_await t1;
  co_await t2;
  fmt::print("finished at {:%X}\n", fmt::localtime(std::time(nullptr)));
}

int main() { asyncio::run(main_()); }
