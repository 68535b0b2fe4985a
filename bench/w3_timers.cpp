// W3 timers (bench/README.md): N tasks each sleep a pseudo-random 0-999 ms
// (the anchors' LCG) and return their index; gather; sum = N(N-1)/2.
// Prints `seconds=<float> result=<integer>`.
//
// Usage: w3_timers [N]   (default 100,000)
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

asyncio::Coro<long long> sleeper(long long i, int ms) {
  co_await asyncio::sleep(std::chrono::milliseconds(ms));
  co_return i;
}

struct Outcome {
  double seconds;
  long long result;
};

asyncio::Coro<Outcome> main_(long long n) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<asyncio::Coro<long long>> coros;
  coros.reserve(static_cast<std::size_t>(n));
  unsigned seed = 12345;
  for (long long i = 0; i < n; ++i) {
    seed = (seed * 1103515245u + 12345u) & 0x7FFFFFFFu;
    coros.push_back(sleeper(i, static_cast<int>((seed >> 8) % 1000)));
  }
  auto results = co_await asyncio::gather(std::move(coros));
  long long total = 0;
  for (long long v : results) total += v;
  std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
  co_return Outcome{dt.count(), total};
}

int main(int argc, char** argv) {
  long long n = argc > 1 ? std::atoll(argv[1]) : 100'000;
  Outcome o = asyncio::run(main_(n));
  std::printf("seconds=%.6f result=%lld\n", o.seconds, o.result);
}
