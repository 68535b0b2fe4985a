// Twin of shutdown_on_sigterm.py: a server-style program that shuts down
// cleanly on SIGTERM. Workers run until the signal arrives; then main cancels
// them, each cleans up, and the program exits 0. (Its test sends SIGTERM once
// the first line is out: examples/expected/shutdown_on_sigterm.signal.)
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

asyncio::Coro<> worker(std::string name, asyncio::Semaphore& started) {
  fmt::print("{}: serving\n", name);
  std::fflush(stdout);
  started.release();
  struct Finally {  // Python: try: ... finally: print(...)
    std::string name;
    ~Finally() { fmt::print("{}: closed its connections\n", name); }
  } finally{name};
  for (;;) co_await asyncio::sleep(3600s);
}

asyncio::Coro<> main_() {
  auto& loop = asyncio::get_running_loop();
  asyncio::Event stop;
  loop.add_signal_handler(SIGTERM, [&stop] { stop.set(); });
  asyncio::Semaphore started(0);
  std::vector<asyncio::Task<void>> workers;
  for (int i : {1, 2}) workers.push_back(asyncio::create_task(worker(fmt::format("worker {}", i), started)));
  for (std::size_t n = 0; n < workers.size(); ++n) co_await started.acquire();
  fmt::print("ready: send SIGTERM to stop\n");
  std::fflush(stdout);
  co_await stop.wait();
  fmt::print("SIGTERM received: shutting down\n");
  for (auto& w : workers) w.cancel();
  co_await asyncio::gather(asyncio::return_exceptions, workers);
  loop.remove_signal_handler(SIGTERM);
  fmt::print("bye\n");
}

int main() { asyncio::run(main_()); }
