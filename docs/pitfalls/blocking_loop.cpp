// Pitfall: CPU-bound work inside a coroutine blocks the loop: no other task runs
// until it returns. Run with ASYNCIO_DEBUG=1 to have the loop name the culprit.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <chrono>

using namespace std::chrono_literals;

// [bug]
long busy(long n) {  // ~0.3 s of CPU on a 2020s machine
  volatile long x = 0;
  for (long i = 0; i < n; ++i) x = x + i % 7;
  return x;
}

asyncio::Coro<> ticker() {
  for (int i = 0; i < 3; ++i) {
    fmt::print("tick {}\n", i);
    co_await asyncio::sleep(0.1);
  }
}

asyncio::Coro<> main_() {
  auto t = asyncio::create_task(ticker());
  co_await asyncio::sleep(0);
  busy(300'000'000);  // the loop's one thread is busy: ticker waits
  // The fix: long r = co_await asyncio::to_thread(busy, 300'000'000L);
  co_await t;
}
// [end]

int main() { asyncio::run(main_()); }
