// W1 spawn, Boost.Asio C++20 coroutine anchor.
//
// co_spawn N coroutines on a single-threaded io_context; each yields once
// (`co_await post(use_awaitable)`, Asio's sleep(0)) and returns its index.
// "gather": each co_spawn completion handler stores its result in a vector
// slot (asyncio.gather's result list) and counts down; then the results are
// summed. Boost 1.74 has no experimental::make_parallel_group (a later
// addition), and a handler per task is the plain Asio way to collect results.
//
// Usage: asio_w1_spawn [N]   prints `seconds=<float> result=<integer>`.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <vector>

namespace asio = boost::asio;

namespace {

asio::awaitable<long> work(long i) {
  co_await asio::post(asio::use_awaitable);  // yield to the loop once
  co_return i;
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  asio::io_context io(1);  // concurrency hint 1: the documented single-threaded mode

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<long> results(n);
  long done = 0;
  for (long i = 0; i < n; ++i) {
    asio::co_spawn(io, work(i), [&results, &done, i](std::exception_ptr e, long value) {
      if (e) std::rethrow_exception(e);
      results[i] = value;
      ++done;
    });
  }
  io.run();
  const long result = std::accumulate(results.begin(), results.end(), 0L);
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - t0;

  if (done != n) {
    std::fprintf(stderr, "asio_w1_spawn: only %ld of %ld tasks completed\n", done, n);
    return 1;
  }
  std::printf("seconds=%.6f result=%ld\n", seconds.count(), result);
  return 0;
}
