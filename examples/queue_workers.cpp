// Twin of queue_workers.py: three workers share a queue of jobs; main waits
// for the queue to drain with join(), then cancels the workers.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <string>
#include <vector>

asyncio::Coro<> worker(std::string name, asyncio::Queue<double>& queue, double start) {
  auto& loop = asyncio::get_running_loop();
  for (;;) {
    double seconds = co_await queue.get();
    co_await asyncio::sleep(seconds);
    queue.task_done();
    fmt::print("t={:.1f} {} slept {} s\n", loop.time() - start, name, seconds);
  }
}

asyncio::Coro<> main_() {
  auto& loop = asyncio::get_running_loop();
  double start = loop.time();
  asyncio::Queue<double> queue;
  for (double seconds : {0.5, 0.2, 0.3, 0.6, 0.1, 0.3, 0.5}) queue.put_nowait(seconds);
  std::vector<asyncio::Task<>> workers;
  for (int i = 1; i <= 3; ++i)
    workers.push_back(asyncio::create_task(worker(fmt::format("worker-{}", i), queue, start)));
  co_await queue.join();
  for (auto& w : workers) w.cancel();
  auto results = co_await asyncio::gather(asyncio::return_exceptions, workers);
  std::vector<std::string> ended_by;  // Python: type(r).__name__ for r in results
  for (auto& r : results)
    ended_by.push_back(r.has_exception() ? asyncio::exception_type_name(r.exception()) : "NoneType");
  fmt::print("workers ended by: {}\n", fmt::join(ended_by, ", "));
  fmt::print("t={:.1f} all {} jobs done\n", loop.time() - start, 7);
}

int main() { asyncio::run(main_()); }
