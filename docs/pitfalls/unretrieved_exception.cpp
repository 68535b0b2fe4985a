// Pitfall: a task that fails while nobody awaits it. Python logs "Task
// exception was never retrieved" when the task is garbage-collected; the C++
// task reports the same when its last handle goes.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <stdexcept>

using namespace std::chrono_literals;

asyncio::Coro<> fail() {
  co_await asyncio::sleep(1s);
  throw std::runtime_error("boom");
}

asyncio::Coro<> main_() {
  // [bug]
  asyncio::create_task(fail());  // the handle is dropped: nobody will await it
  co_await asyncio::sleep(2s);
  fmt::print("main done\n");
  // [end]
}

int main() { asyncio::run(main_()); }
