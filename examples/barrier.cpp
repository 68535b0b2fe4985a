// Twin of barrier.py: three tasks arrive at a Barrier at different times and
// all pass together (the last to arrive passes first).
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <vector>

asyncio::Coro<> runner(int i, asyncio::Barrier& barrier, double start) {
  auto& loop = asyncio::get_running_loop();
  co_await asyncio::sleep(i * 0.5);
  fmt::print("t={:.1f} runner {} arrives\n", loop.time() - start, i);
  std::size_t pos = co_await barrier.wait();
  fmt::print("t={:.1f} runner {} passes (arrival index {})\n", loop.time() - start, i, pos);
}

asyncio::Coro<> main_() {
  auto& loop = asyncio::get_running_loop();
  double start = loop.time();
  asyncio::Barrier barrier(3);
  std::vector<asyncio::Coro<>> runners;
  for (int i = 1; i <= 3; ++i) runners.push_back(runner(i, barrier, start));
  co_await asyncio::gather(std::move(runners));
}

int main() { asyncio::run(main_()); }
