// Chain depth: how many bytes one level of inline `co_await` of a Coro costs.
// f(n) returns 1 + co_await f(n-1) and f(0) returns 0, so asyncio::run(f(N))
// holds N+1 coroutine frames alive at once (each suspended on the next) and
// returns N. bench/compare divides the program's peak RSS by N.
//
// In Python the same program is `async def f(n): return 0 if n == 0 else 1 + await f(n - 1)`,
// but CPython cannot await 1,000,000 levels deep (RecursionError), so it has no twin here.
//
// Usage: chain_depth [N]   (default 1,000,000) prints `seconds=<float> result=<integer>`;
// the exit status is 1 if the result is not N.
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

asyncio::Coro<long> f(long n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await f(n - 1);
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  const auto t0 = std::chrono::steady_clock::now();
  const long result = asyncio::run(f(n));
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - t0;
  std::printf("seconds=%.6f result=%ld\n", seconds.count(), result);
  return result == n ? 0 : 1;
}
