// What an executor costs: pool start-up, and the round trip of one call, for
// ThreadPoolExecutor, ProcessPoolExecutor and run_in_executor (bench/README.md, "Executors").
//
//   executors_bench [rounds]     (default 200 sequential calls per figure)
//
// Prints one line per figure: `name=<value> unit=<us>` (medians over several repetitions), and
// checks every result it computed: a wrong one ends the program with status 1. Its Python twin
// is anchors/executors_bench.py (the same figures, same names); bench/pairs runs both.
#include <asyncio/executors.hpp>
#include <asyncio/serialize_gmp.hpp>
#include <asyncio/runners.hpp>
#include <fmt/core.h>
#include <gmpxx.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int add(int a, int b) { return a + b; }
ASYNCIO_REGISTER_PROCESS_FUNCTION(add);

// A result the size of factorial(10000): 118445 bits, 14.8 KB.
mpz_class big_result(int bits) { return mpz_class(1) << bits; }
ASYNCIO_REGISTER_PROCESS_FUNCTION(big_result);

double us_since(Clock::time_point t) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t).count();
}

template <class F>
double median_of(int repetitions, F measure) {
  std::vector<double> v;
  for (int i = 0; i < repetitions; ++i) v.push_back(measure());
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void report(const char* name, double us) { fmt::print("{}={:.1f} unit=us\n", name, us); }

/// Ends the program (status 1) if a call returned something else than it should.
template <class T, class U>
void check(const char* what, const T& got, const U& expected) {
  if (got == expected) return;
  fmt::print(stderr, "executors_bench: {} returned a wrong result\n", what);
  std::exit(1);
}

int checked_add(asyncio::concurrent::Future<int> f, int expected) {
  int r = f.result();
  check("add", r, expected);
  return r;
}

void check_map(const std::vector<int>& r, const std::vector<int>& xs) {
  check("map(add) size", r.size(), xs.size());
  for (std::size_t i = 0; i < r.size(); ++i) check("map(add)", r[i], 2 * xs[i]);
}

asyncio::Coro<double> await_round_trips(asyncio::ThreadPoolExecutor* pool, int rounds) {
  auto& loop = asyncio::get_running_loop();
  co_await loop.run_in_executor(*pool, add, 0, 0);  // threads started
  auto t = Clock::now();
  for (int i = 0; i < rounds; ++i)
    check("run_in_executor(add)", co_await loop.run_in_executor(*pool, add, i, 1), i + 1);
  co_return us_since(t) / rounds;
}

asyncio::Coro<double> await_process_round_trips(asyncio::ProcessPoolExecutor* pool, int rounds) {
  auto& loop = asyncio::get_running_loop();
  co_await loop.run_in_executor(*pool, add, 0, 0);  // worker started
  auto t = Clock::now();
  for (int i = 0; i < rounds; ++i)
    check("run_in_executor(add)", co_await loop.run_in_executor(*pool, add, i, 1), i + 1);
  co_return us_since(t) / rounds;
}

}  // namespace

int main(int argc, char** argv) {
  asyncio::process_pool_worker_main(argc, argv);  // the process pools' workers serve here
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());

  // ---- start-up: construct, first call returns, shut down ----
  report("thread_pool_startup_first_call", median_of(15, [] {
           auto t = Clock::now();
           asyncio::ThreadPoolExecutor pool(1);
           checked_add(pool.submit(add, 1, 2), 3);
           return us_since(t);
         }));
  report("thread_pool_startup_and_shutdown", median_of(15, [] {
           auto t = Clock::now();
           {
             asyncio::ThreadPoolExecutor pool(1);
             checked_add(pool.submit(add, 1, 2), 3);
           }
           return us_since(t);
         }));
  report("process_pool_startup_first_call", median_of(9, [] {
           auto t = Clock::now();
           asyncio::ProcessPoolExecutor pool(1);
           checked_add(pool.submit(add, 1, 2), 3);
           return us_since(t);
         }));
  report("process_pool_startup_and_shutdown", median_of(9, [] {
           auto t = Clock::now();
           {
             asyncio::ProcessPoolExecutor pool(1);
             checked_add(pool.submit(add, 1, 2), 3);
           }
           return us_since(t);
         }));
  report("process_pool_all_workers_started", median_of(9, [cores] {
           auto t = Clock::now();
           asyncio::ProcessPoolExecutor pool(cores);
           std::vector<int> xs(cores, 1);
           std::vector<int> r = pool.map(add, xs, xs);
           auto us = us_since(t);
           check_map(r, xs);
           return us;
         }));

  // ---- per call: one call at a time (latency), then many in flight (throughput) ----
  {
    asyncio::ThreadPoolExecutor pool(1);
    checked_add(pool.submit(add, 0, 0), 0);
    report("thread_pool_round_trip", median_of(5, [&] {
             auto t = Clock::now();
             for (int i = 0; i < rounds; ++i) checked_add(pool.submit(add, i, 1), i + 1);
             return us_since(t) / rounds;
           }));
  }
  {
    asyncio::ThreadPoolExecutor pool(cores);
    std::vector<int> xs(static_cast<std::size_t>(rounds) * 10, 1);
    checked_add(pool.submit(add, 0, 0), 0);
    report("thread_pool_per_call_in_map", median_of(5, [&] {
             auto t = Clock::now();
             std::vector<int> r = pool.map(add, xs, xs);
             auto us = us_since(t) / static_cast<double>(xs.size());
             check_map(r, xs);
             return us;
           }));
  }
  {
    asyncio::ProcessPoolExecutor pool(1);
    checked_add(pool.submit(add, 0, 0), 0);
    report("process_pool_round_trip", median_of(5, [&] {
             auto t = Clock::now();
             for (int i = 0; i < rounds; ++i) checked_add(pool.submit(add, i, 1), i + 1);
             return us_since(t) / rounds;
           }));
    report("process_pool_round_trip_15KB_result", median_of(5, [&] {
             auto t = Clock::now();
             for (int i = 0; i < rounds; ++i) {
               mpz_class r = pool.submit(big_result, 118444).result();
               check("big_result", mpz_sizeinbase(r.get_mpz_t(), 2), std::size_t{118445});
             }
             return us_since(t) / rounds;
           }));
  }
  {
    asyncio::ProcessPoolExecutor pool(cores);
    std::vector<int> xs(static_cast<std::size_t>(rounds) * 10, 1);
    std::vector<int> warm = pool.map(add, std::vector<int>(cores, 0), std::vector<int>(cores, 0));
    report("process_pool_per_call_in_map", median_of(5, [&] {
             auto t = Clock::now();
             std::vector<int> r = pool.map(add, xs, xs);
             auto us = us_since(t) / static_cast<double>(xs.size());
             check_map(r, xs);
             return us;
           }));
  }

  // ---- from a coroutine: co_await loop.run_in_executor(pool, ...) ----
  {
    asyncio::ThreadPoolExecutor pool(1);
    report("run_in_executor_thread_round_trip",
           median_of(5, [&] { return asyncio::run(await_round_trips(&pool, rounds)); }));
  }
  {
    asyncio::ProcessPoolExecutor pool(1);
    report("run_in_executor_process_round_trip",
           median_of(5, [&] { return asyncio::run(await_process_round_trips(&pool, rounds)); }));
  }
}
