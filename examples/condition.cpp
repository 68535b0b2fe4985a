// Twin of condition.py: consumers wait on a Condition; the producer wakes
// one, then all.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;

asyncio::Coro<> consumer(std::string name, asyncio::Condition& cond, std::vector<std::string>& items) {
  auto guard = co_await cond;  // Python: async with cond:
  co_await cond.wait_for([&] { return !items.empty(); });
  fmt::print("{} took {}\n", name, items.front());
  items.erase(items.begin());
}

asyncio::Coro<> main_() {
  asyncio::Condition cond;
  std::vector<std::string> items;
  std::vector<asyncio::Task<>> tasks;
  for (int i = 1; i <= 3; ++i)
    tasks.push_back(asyncio::create_task(consumer(fmt::format("consumer-{}", i), cond, items)));
  co_await asyncio::sleep(100ms);
  {
    auto guard = co_await cond;
    items.push_back("apple");
    cond.notify(1);
  }
  co_await asyncio::sleep(100ms);
  {
    auto guard = co_await cond;
    items.insert(items.end(), {"banana", "cherry"});
    cond.notify_all();
  }
  co_await asyncio::gather(tasks);
  std::vector<std::string> quoted;
  for (auto& item : items) quoted.push_back("'" + item + "'");
  fmt::print("left: [{}]\n", fmt::join(quoted, ", "));
}

int main() { asyncio::run(main_()); }
