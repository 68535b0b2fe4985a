// Micro-benchmarks of the combinators (Google Benchmark). Each benchmark runs
// inside one asyncio::run: the timed loop is the coroutine's own loop over
// `state`, so a loop iteration of asyncio is part of what is measured.
//
//   gather_vector/N   N tasks that each sleep(0) once, gathered (vector form): per task
//   gather_tuple      gather of 3 coroutines that return at once
//   wait_for          wait_for of a coroutine that finishes in time (arms/disarms a timer)
//   timeout_scope     co_await timeout(1s, coroutine) around a coroutine that returns at once
//   task_group/N      a TaskGroup with N children that each sleep(0) once: per task
//
// Every iteration checks what it computed (the sum of the gathered results, the values
// returned, the number of children that ran): a wrong one ends the program with status 1.
// The Python twin is anchors/micro_tasks.py; bench/pairs runs both and prints them side by side
// as nanoseconds per operation (per task for the /N forms).
#include <asyncio/asyncio.hpp>
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <cstdlib>
#include <numeric>
#include <tuple>
#include <vector>

using namespace std::chrono_literals;

namespace {

asyncio::Coro<long> yield_once(long i) {
  co_await asyncio::sleep(0);
  co_return i;
}

asyncio::Coro<long> at_once(long i) { co_return i; }

/// Ends the program (status 1) if a benchmark computed a wrong result.
template <class T, class U>
void check(const char* what, const T& got, const U& expected) {
  if (got == expected) return;
  fmt::print(stderr, "micro_tasks: {} computed a wrong result\n", what);
  std::exit(1);
}

template <class F>
void run_in_loop(F body) {
  asyncio::run(body());
}

void gather_vector(benchmark::State& state) {
  const long n = state.range(0);
  run_in_loop([&]() -> asyncio::Coro<> {
    for (auto _ : state) {
      std::vector<asyncio::Task<long>> tasks;
      tasks.reserve(static_cast<std::size_t>(n));
      for (long i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(yield_once(i)));
      auto results = co_await asyncio::gather(std::move(tasks)).take();  // moved, not copied
      check("gather_vector", std::accumulate(results.begin(), results.end(), 0L), n * (n - 1) / 2);
    }
  });
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(gather_vector)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

void gather_tuple(benchmark::State& state) {
  run_in_loop([&]() -> asyncio::Coro<> {
    for (auto _ : state) {
      auto r = co_await asyncio::gather(at_once(1), at_once(2), at_once(3));
      check("gather_tuple", r, std::tuple<long, long, long>(1, 2, 3));
    }
  });
}
BENCHMARK(gather_tuple);

void wait_for(benchmark::State& state) {
  run_in_loop([&]() -> asyncio::Coro<> {
    for (auto _ : state) check("wait_for", co_await asyncio::wait_for(yield_once(1), 1s), 1L);
  });
}
BENCHMARK(wait_for);

void timeout_scope(benchmark::State& state) {
  run_in_loop([&]() -> asyncio::Coro<> {
    for (auto _ : state) check("timeout_scope", co_await asyncio::timeout(1s, at_once(1)), 1L);
  });
}
BENCHMARK(timeout_scope);

asyncio::Coro<> count_once(long* ran) {
  co_await asyncio::sleep(0);
  ++*ran;
}

void task_group(benchmark::State& state) {
  const long n = state.range(0);
  run_in_loop([&]() -> asyncio::Coro<> {
    for (auto _ : state) {
      long ran = 0;
      asyncio::TaskGroup tg;
      co_await tg.async_with([&]() -> asyncio::Coro<> {
        for (long i = 0; i < n; ++i) tg.create_task(count_once(&ran));
        co_return;
      });
      check("task_group", ran, n);
    }
  });
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(task_group)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
