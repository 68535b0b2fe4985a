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
  // Python: await asyncio.gather(*(runner(i, barrier, start) for i in range(1, 4)))
  std::vector<asyncio::Task<>> runners;
  for (int i = 1; i <= 3; ++i) runners.push_back(asyncio::create_task(runner(i, barrier, start)));
  for (auto& t : runners) co_await t;
}

int main() { asyncio::run(main_()); }
