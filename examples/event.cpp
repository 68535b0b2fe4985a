// Twin of event.py: waiters block on an Event until another task sets it.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;

asyncio::Coro<> waiter(std::string name, asyncio::Event& event, double start) {
  auto& loop = asyncio::get_running_loop();
  fmt::print("{} waiting\n", name);
  co_await event.wait();
  fmt::print("t={:.1f} {} woke up\n", loop.time() - start, name);
}

asyncio::Coro<> main_() {
  auto& loop = asyncio::get_running_loop();
  double start = loop.time();
  asyncio::Event event;
  std::vector<asyncio::Task<>> tasks;
  for (int i = 1; i <= 3; ++i)
    tasks.push_back(asyncio::create_task(waiter(fmt::format("waiter-{}", i), event, start)));
  co_await asyncio::sleep(1s);
  fmt::print("setting the event; is_set before: {}\n", event.is_set() ? "True" : "False");
  event.set();
  co_await asyncio::gather(tasks);
  event.clear();
  fmt::print("is_set after clear: {}\n", event.is_set() ? "True" : "False");
}

int main() { asyncio::run(main_()); }
