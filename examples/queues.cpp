// Twin of queues.py: the same items come out of a FIFO Queue, a LifoQueue and
// a PriorityQueue in three orders; a bounded queue makes the producer wait;
// cancelling the consumer ends it.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;

template <class Q>
void drain(const char* name) {
  Q q;
  for (int item : {3, 1, 4, 1, 5}) q.put_nowait(item);
  std::vector<int> out;
  for (std::size_t i = 0, n = q.qsize(); i < n; ++i) out.push_back(q.get_nowait());
  fmt::print("{}: [{}]\n", name, fmt::join(out, ", "));
}

asyncio::Coro<> producer(asyncio::Queue<std::string>& q, double start) {
  auto& loop = asyncio::get_running_loop();
  for (std::string item : {"c", "d", "e"}) {
    co_await q.put(item);
    fmt::print("t={:.1f} put {}\n", loop.time() - start, item);
  }
}

asyncio::Coro<> consumer(asyncio::Queue<std::string>& q, double start) {
  auto& loop = asyncio::get_running_loop();
  for (;;) {
    co_await asyncio::sleep(500ms);
    std::string item = co_await q.get();
    fmt::print("t={:.1f} got {}\n", loop.time() - start, item);
  }
}

asyncio::Coro<> main_() {
  drain<asyncio::Queue<int>>("Queue");
  drain<asyncio::LifoQueue<int>>("LifoQueue");
  drain<asyncio::PriorityQueue<int>>("PriorityQueue");
  asyncio::Queue<std::string> q(2);
  q.put_nowait("a");
  q.put_nowait("b");
  try {
    q.put_nowait("c");
  } catch (const asyncio::QueueFull&) {
    fmt::print("full: {} {}\n", q.full() ? "True" : "False", q.qsize());
  }
  try {
    asyncio::Queue<std::string>().get_nowait();
  } catch (const asyncio::QueueEmpty&) {
    fmt::print("empty queue: QueueEmpty\n");
  }
  auto& loop = asyncio::get_running_loop();
  double start = loop.time();
  auto c = asyncio::create_task(consumer(q, start));
  co_await producer(q, start);
  while (!q.empty()) co_await asyncio::sleep(100ms);
  c.cancel();
  try {
    co_await c;
  } catch (const asyncio::CancelledError&) {
    fmt::print("consumer cancelled: {}\n", c.cancelled() ? "True" : "False");
  }
}

int main() { asyncio::run(main_()); }
