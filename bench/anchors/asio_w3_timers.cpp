// W3 timers, Boost.Asio C++20 coroutine anchor: N coroutines each wait on a
// steady_timer for a pseudo-random 0-999 ms (the anchors' LCG) and return
// their index; completion handlers store the results; sum.
//
// Usage: asio_w3_timers [N]   prints `seconds=<float> result=<integer>`.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <vector>

namespace asio = boost::asio;

namespace {

asio::awaitable<long> sleeper(long i, int ms) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await timer.async_wait(asio::use_awaitable);
  co_return i;
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 100'000;
  asio::io_context io(1);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<long> results(n);
  unsigned seed = 12345;
  for (long i = 0; i < n; ++i) {
    seed = (seed * 1103515245u + 12345u) & 0x7FFFFFFFu;
    asio::co_spawn(io, sleeper(i, static_cast<int>((seed >> 8) % 1000)),
                   [&results, i](std::exception_ptr e, long value) {
                     if (e) std::rethrow_exception(e);
                     results[i] = value;
                   });
  }
  io.run();
  const long total = std::accumulate(results.begin(), results.end(), 0L);
  const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
  std::printf("seconds=%.6f result=%ld\n", dt.count(), total);
}
