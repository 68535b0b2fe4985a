// Twin of semaphore.py: at most two jobs hold the Semaphore at once; a
// BoundedSemaphore refuses an extra release.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <vector>

using namespace std::chrono_literals;

asyncio::Coro<> job(int i, asyncio::Semaphore& sem, double start) {
  auto& loop = asyncio::get_running_loop();
  {
    auto guard = co_await sem;  // Python: async with sem:
    fmt::print("t={:.1f} job {} starts\n", loop.time() - start, i);
    co_await asyncio::sleep(1s);
  }
  fmt::print("t={:.1f} job {} ends\n", loop.time() - start, i);
}

asyncio::Coro<> main_() {
  auto& loop = asyncio::get_running_loop();
  double start = loop.time();
  asyncio::Semaphore sem(2);
  std::vector<asyncio::Coro<>> jobs;
  for (int i = 1; i <= 5; ++i) jobs.push_back(job(i, sem, start));
  co_await asyncio::gather(std::move(jobs));
  asyncio::BoundedSemaphore bounded(1);
  co_await bounded.acquire();
  bounded.release();
  try {
    bounded.release();
  } catch (const asyncio::ValueError& e) {
    fmt::print("extra release: {}\n", e.what());
  }
}

int main() { asyncio::run(main_()); }
