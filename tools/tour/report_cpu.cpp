// The cpu demonstration's timelines for the report (report.hpp): the same
// factorial jobs on the loop's thread, in a thread pool and in a process pool,
// each run traced (trace.hpp) and drawn (tools/timeline).
#include <asyncio/executors.hpp>
#include <asyncio/serialize_gmp.hpp>
#include <asyncio/runners.hpp>
#include <asyncio/tasks_combinators.hpp>
#include <gmpxx.h>

#include "report.hpp"
#include "traced_svg.hpp"

namespace tour {
namespace {

// The same product in a task, giving the loop back every `n / slices` steps:
// CPU-bound work in coroutines interleaves but never runs in parallel.
asyncio::Coro<std::size_t> factorial_in_task(int n, int slices) {
  mpz_class f = 1;
  int every = std::max(1, n / slices);
  for (int i = 1; i < n; ++i) {
    f = f * i;
    if (i % every == 0) co_await asyncio::sleep(std::chrono::seconds(0));
  }
  co_return mpz_sizeinbase(f.get_mpz_t(), 2);
}

template <class Executor>
asyncio::Coro<> jobs_in(Executor& pool, int n, int jobs) {
  auto& loop = asyncio::get_running_loop();
  std::vector<asyncio::Future<mpz_class>> futures;
  for (int j = 0; j < jobs; ++j) futures.push_back(loop.run_in_executor(pool, slow_factorial, n));
  co_await asyncio::gather(std::move(futures));
}

asyncio::Coro<> tasks_on_loop(int n, int jobs) {
  std::vector<asyncio::Coro<std::size_t>> coros;
  for (int j = 0; j < jobs; ++j) coros.push_back(factorial_in_task(n, 6));
  co_await asyncio::gather(std::move(coros));
}

}  // namespace

CpuTimelines trace_cpu_timelines(int n, int jobs, std::size_t workers) {
  std::vector<timeline::Trace> traces;
  traces.push_back(traced_run(tasks_on_loop(n, jobs)));
  {
    asyncio::ThreadPoolExecutor pool(workers);
    traces.push_back(traced_run(jobs_in(pool, n, jobs)));
  }
  {
    asyncio::ProcessPoolExecutor pool(workers);
    traces.push_back(traced_run(jobs_in(pool, n, jobs)));
  }
  // One time axis for the three: the loop's run is visibly the longest.
  auto svgs = render_on_shared_axis(traces, {"asyncio alone: the tasks take turns on one thread",
                                             "run_in_executor, thread pool: threads side by side",
                                             "run_in_executor, process pool: one process per core"});
  return CpuTimelines{svgs[0], svgs[1], svgs[2]};
}

}  // namespace tour
