// W1 spawn on the asyncio library: N tasks that each `co_await sleep(0)` once
// and return their index; gather them (vector form) and sum the results.
//
// Usage: w1_spawn [N]   (default 1000000) prints `seconds=<float> result=<integer>`,
// where seconds covers creating, running and summing (not the loop's start-up),
// as bench/anchors/w1_spawn.py measures it.
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace {

asyncio::Coro<long> work(long i) {
  co_await asyncio::sleep(0);
  co_return i;
}

asyncio::Coro<std::pair<double, long>> main_(long n) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<asyncio::Task<long>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(work(i)));
  // take(): the results are moved out of the gather (awaiting it would copy them).
  std::vector<long> results = co_await asyncio::gather(std::move(tasks)).take();
  long sum = 0;
  for (long r : results) sum += r;
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - t0;
  co_return std::pair{seconds.count(), sum};
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  auto [seconds, result] = asyncio::run(main_(n));
  std::printf("seconds=%.6f result=%ld\n", seconds, result);
  return 0;
}
