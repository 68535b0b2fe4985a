// The fix for dangling_capture.cpp: pass what the coroutine needs as
// parameters, by value. A coroutine copies its parameters into its frame, which
// lives as long as the coroutine does.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <string>

using namespace std::chrono_literals;

asyncio::Coro<> main_() {
  std::string name = "worker";
  // [fix]
  auto t = asyncio::create_task([](std::string name) -> asyncio::Coro<> {
    co_await asyncio::sleep(1s);
    fmt::print("{} done\n", name);  // the frame's own copy
  }(name));
  // [end]
  co_await t;
}

int main() { asyncio::run(main_()); }
