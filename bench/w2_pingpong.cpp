// W2 ping-pong (bench/README.md): two tasks pass N messages back and forth
// through two Queue(maxsize=1), one each way; a round trip is one message there
// and one back. The producer sums what comes back: result = N(N-1)/2.
// Prints one line: `seconds=<float> result=<integer>`.
//
// Usage: w2_pingpong [N]   (default 1,000,000)
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

using Queue = asyncio::Queue<long long>;

asyncio::Coro<long long> producer(Queue& there, Queue& back, long long n) {
  long long total = 0;
  for (long long i = 0; i < n; ++i) {
    co_await there.put(i);
    total += co_await back.get();
  }
  co_return total;
}

asyncio::Coro<void> consumer(Queue& there, Queue& back, long long n) {
  for (long long i = 0; i < n; ++i) co_await back.put(co_await there.get());
}

struct Outcome {
  double seconds;
  long long result;
};

asyncio::Coro<Outcome> main_(long long n) {
  Queue there(1), back(1);
  auto t0 = std::chrono::steady_clock::now();
  auto [total, none] = co_await asyncio::gather(producer(there, back, n), consumer(there, back, n));
  std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
  co_return Outcome{dt.count(), total};
}

int main(int argc, char** argv) {
  long long n = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
  Outcome out = asyncio::run(main_(n));
  std::printf("seconds=%.6f result=%lld\n", out.seconds, out.result);
}
