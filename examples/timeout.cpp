// Twin of timeout.py: wait_for cancels what it waits for when the timeout
// passes, waits for it to finish, then throws TimeoutError.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

using namespace std::chrono_literals;

asyncio::Coro<> eternity() {
  co_await asyncio::sleep(3600s);
  fmt::print("yay!\n");
}

asyncio::Coro<> main_() {
  try {
    co_await asyncio::wait_for(eternity(), 1s);
  } catch (const asyncio::TimeoutError&) {
    fmt::print("timeout!\n");
  }
}

int main() { asyncio::run(main_()); }
