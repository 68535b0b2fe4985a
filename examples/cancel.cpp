// Twin of cancel.py: cancelling a task throws CancelledError where it waits;
// it catches it and finishes.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

using namespace std::chrono_literals;

asyncio::Coro<> long_run() {
  fmt::print("Starting long_run\n");
  try {
    co_await asyncio::sleep(10s);
  } catch (const asyncio::CancelledError&) {
    fmt::print("Cancelled long_run\n");
  }
  fmt::print("Finishing long_run\n");
}

asyncio::Coro<> short_run() {
  fmt::print("Starting short_run\n");
  co_await asyncio::sleep(2s);
  fmt::print("Finishing short_run\n");
}

asyncio::Coro<> run() {
  auto s = asyncio::create_task(short_run());
  auto l = asyncio::create_task(long_run());
  co_await s;
  l.cancel();
}

int main() { asyncio::run(run()); }
