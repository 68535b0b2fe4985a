// W1 spawn on the asyncio library: N tasks that each `co_await sleep(0)` once
// and return their index; gather them (vector form) and sum the results.
//
// Usage: w1_spawn [N] [--rss-after]   (default 1000000) prints `seconds=<float> result=<integer>`,
// where seconds covers creating, running and summing (not the loop's start-up),
// as bench/anchors/w1_spawn.py measures it. With --rss-after it adds
// ` rss_after_kib=<integer>`: the resident set once asyncio::run has returned
// (the frame pool's memory given back after the spike, issue 10).
#include <asyncio/asyncio.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
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

/// Resident set size in KiB (/proc/self/statm's second field, in pages).
long rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  auto [seconds, result] = asyncio::run(main_(n));
  if (argc > 2 && std::strcmp(argv[2], "--rss-after") == 0) {
    std::printf("seconds=%.6f result=%ld rss_after_kib=%ld\n", seconds, result, rss_kib());
    return 0;
  }
  std::printf("seconds=%.6f result=%ld\n", seconds, result);
  return 0;
}
