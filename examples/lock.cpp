// Twin of lock.py: a read-modify-write with a co_await in the middle loses
// updates unless a Lock guards it.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <vector>

asyncio::Coro<> add(int& n, asyncio::Lock* lock, int times) {
  for (int i = 0; i < times; ++i) {
    if (lock != nullptr) {
      auto guard = co_await *lock;  // Python: async with lock:
      int value = n;
      co_await asyncio::sleep(0);
      n = value + 1;
    } else {
      int value = n;
      co_await asyncio::sleep(0);
      n = value + 1;
    }
  }
}

asyncio::Coro<> main_() {
  asyncio::Lock the_lock;
  for (asyncio::Lock* lock : {static_cast<asyncio::Lock*>(nullptr), &the_lock}) {
    int n = 0;
    std::vector<asyncio::Coro<>> adders;
    for (int i = 0; i < 5; ++i) adders.push_back(add(n, lock, 100));
    co_await asyncio::gather(std::move(adders));
    fmt::print("{} lock: {} of 500\n", lock ? "with" : "without", n);
  }
  asyncio::Lock lock;
  try {
    lock.release();
  } catch (const asyncio::RuntimeError& e) {
    fmt::print("release unlocked: {}\n", e.what());
  }
}

int main() { asyncio::run(main_()); }
