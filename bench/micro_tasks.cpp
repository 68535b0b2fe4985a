// Micro-benchmarks of the combinators (Google Benchmark). Each benchmark runs
// inside one asyncio::run: the timed loop is the coroutine's own loop over
// `state`, so a loop iteration of asyncio is part of what is measured.
//
//   gather_vector/N   N tasks that each sleep(0) once, gathered (vector form): per task
//   gather_tuple      gather of 3 coroutines that return at once
//   wait_for          wait_for of a coroutine that finishes in time (arms/disarms a timer)
//   timeout_scope     co_await timeout(1s, coroutine) around a coroutine that returns at once
//   task_group/N      a TaskGroup with N children that each sleep(0) once: per task
#include <asyncio/asyncio.hpp>
#include <benchmark/benchmark.h>

#include <vector>

using namespace std::chrono_literals;

namespace {

asyncio::Coro<long> yield_once(long i) {
  co_await asyncio::sleep(0);
  co_return i;
}

asyncio::Coro<long> at_once(long i) { co_return i; }

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
      benchmark::DoNotOptimize(results.data());
    }
  });
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(gather_vector)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

void gather_tuple(benchmark::State& state) {
  run_in_loop([&]() -> asyncio::Coro<> {
    for (auto _ : state) {
      auto r = co_await asyncio::gather(at_once(1), at_once(2), at_once(3));
      benchmark::DoNotOptimize(r);
    }
  });
}
BENCHMARK(gather_tuple);

void wait_for(benchmark::State& state) {
  run_in_loop([&]() -> asyncio::Coro<> {
    for (auto _ : state) benchmark::DoNotOptimize(co_await asyncio::wait_for(yield_once(1), 1s));
  });
}
BENCHMARK(wait_for);

void timeout_scope(benchmark::State& state) {
  run_in_loop([&]() -> asyncio::Coro<> {
    for (auto _ : state) benchmark::DoNotOptimize(co_await asyncio::timeout(1s, at_once(1)));
  });
}
BENCHMARK(timeout_scope);

void task_group(benchmark::State& state) {
  const long n = state.range(0);
  run_in_loop([&]() -> asyncio::Coro<> {
    for (auto _ : state) {
      asyncio::TaskGroup tg;
      co_await tg.async_with([&]() -> asyncio::Coro<> {
        for (long i = 0; i < n; ++i) tg.create_task(yield_once(i));
        co_return;
      });
    }
  });
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(task_group)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
