// TaskGroup: structured concurrency (Python 3.11+'s `async with TaskGroup()`).
// The group is left only when all its tasks are done; when one fails, the
// group cancels the others and its own body, and throws an ExceptionGroup.
//
// The Python twin, whose output examples/expected/taskgroup.out is:
//
//   async def fetch(name, delay, fail=False):
//       print(f"{name}: started")
//       try:
//           await asyncio.sleep(delay)
//       except asyncio.CancelledError:
//           print(f"{name}: cancelled")
//           raise
//       if fail:
//           raise ValueError(f"{name} failed")
//       print(f"{name}: done")
//       return name.upper()
//
//   async def main():
//       async with asyncio.TaskGroup() as tg:
//           a = tg.create_task(fetch("a", 0.5))
//           b = tg.create_task(fetch("b", 1))
//           print("body: both created")
//       print(f"group 1 finished: {a.result()} {b.result()}")
//       try:
//           async with asyncio.TaskGroup() as tg:
//               tg.create_task(fetch("c", 0.5))
//               tg.create_task(fetch("d", 1, fail=True))
//               tg.create_task(fetch("e", 2))
//               await asyncio.sleep(3)
//               print("body: not reached")
//       except* ValueError as eg:
//           print(f"caught {len(eg.exceptions)} error(s): {'; '.join(str(e) for e in eg.exceptions)}")
//       print(f"cancelling() = {asyncio.current_task().cancelling()}")
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <cctype>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

asyncio::Coro<std::string> fetch(std::string name, std::chrono::milliseconds delay, bool fail = false) {
  fmt::print("{}: started\n", name);
  try {
    co_await asyncio::sleep(delay);
  } catch (const asyncio::CancelledError&) {
    fmt::print("{}: cancelled\n", name);
    throw;
  }
  if (fail) throw std::invalid_argument(name + " failed");  // Python's ValueError
  fmt::print("{}: done\n", name);
  std::string upper = name;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  co_return upper;
}

asyncio::Coro<> main_() {
  asyncio::Task<std::string> a, b;
  {
    asyncio::TaskGroup tg;  // async with asyncio.TaskGroup() as tg:
    co_await tg.async_with([&]() -> asyncio::Coro<> {
      a = tg.create_task(fetch("a", 500ms));
      b = tg.create_task(fetch("b", 1000ms));
      fmt::print("body: both created\n");
      co_return;
    });
  }
  fmt::print("group 1 finished: {} {}\n", a.result(), b.result());

  try {
    asyncio::TaskGroup tg;
    co_await tg.async_with([&]() -> asyncio::Coro<> {
      tg.create_task(fetch("c", 500ms));
      tg.create_task(fetch("d", 1000ms, true));
      tg.create_task(fetch("e", 2000ms));
      co_await asyncio::sleep(3s);  // cancelled by the group when d fails
      fmt::print("body: not reached\n");
    });
  } catch (asyncio::ExceptionGroup& eg) {
    if (auto g = eg.take<std::invalid_argument>()) {  // except* ValueError as eg:
      std::string msgs;
      for (const auto& e : g->exceptions()) msgs += (msgs.empty() ? "" : "; ") + asyncio::exception_message(e);
      fmt::print("caught {} error(s): {}\n", g->exceptions().size(), msgs);
    }
    if (!eg.empty()) throw;  // the rest propagates, as after except*
  }
  fmt::print("cancelling() = {}\n", asyncio::current_task().cancelling());
}

int main() { asyncio::run(main_()); }
