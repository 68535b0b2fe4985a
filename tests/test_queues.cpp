// Tests of queues.hpp: Queue, LifoQueue, PriorityQueue. The scenario tests
// compare a log with loop-iteration numbers to the one printed by the same
// program on CPython's asyncio.queues: the twin of scenario X is
// tests/python/test_queues/X.py (3.11; the shutdown ones need 3.13), its log
// X.out, which the test reads; `make twins` checks that each twin prints it.
#include "asyncio/queues.hpp"
#include "asyncio/tasks_combinators.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <stdexcept>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "scenario.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using scenario::note;
using scenario::r;
using scenario::say;
using scenario::Ticker;

namespace {

std::string tf(bool b) { return b ? "True" : "False"; }
std::string str(int v) { return std::to_string(v); }
const std::string& str(const std::string& v) { return v; }

template <class Q>
asyncio::Coro<void> getter(Ticker& tk, Q& q, std::string name) {
  try {
    auto v = co_await q.get();
    say(tk, name + " got " + str(v));
  } catch (const asyncio::CancelledError&) {
    say(tk, name + " cancelled");
    throw;
  } catch (const asyncio::QueueShutDown&) {
    say(tk, name + " QueueShutDown");
  }
}

template <class Q, class T>
asyncio::Coro<void> putter(Ticker& tk, Q& q, std::string name, T v) {
  try {
    std::string shown = str(v);
    co_await q.put(std::move(v));
    say(tk, name + " put " + shown);
  } catch (const asyncio::CancelledError&) {
    say(tk, name + " cancelled");
    throw;
  } catch (const asyncio::QueueShutDown&) {
    say(tk, name + " QueueShutDown");
  }
}

using Tasks = std::vector<asyncio::Task<void>>;

asyncio::Coro<void> get_fifo() {
  Ticker tk;
  asyncio::Queue<int> q;
  Tasks ts;
  for (auto n : {"A", "B", "C"}) ts.push_back(asyncio::create_task(getter(tk, q, n)));
  co_await asyncio::sleep(0);
  say(tk, r(q));
  q.put_nowait(1);
  say(tk, r(q));
  q.put_nowait(2);
  q.put_nowait(3);
  say(tk, r(q));
  co_await scenario::wait_all(ts);
  say(tk, r(q));
  tk.stop();
}

TEST(Queue, GetWaitsUntilAnItemIsPutAndGettersAreServedInArrivalOrder) {
  EXPECT_EQ(scenario::run(get_fifo()), scenario::expected("test_queues/get_fifo"));
}

asyncio::Coro<void> put_waits_when_full() {
  Ticker tk;
  asyncio::Queue<std::string> q(2);
  Tasks ts;
  for (auto [n, v] : {std::pair{"A", "a"}, {"B", "b"}, {"C", "c"}, {"D", "d"}})
    ts.push_back(asyncio::create_task(putter(tk, q, n, std::string(v))));
  co_await asyncio::sleep(0);
  say(tk, r(q) + " full=" + tf(q.full()) + " qsize=" + std::to_string(q.qsize()) +
              " maxsize=" + std::to_string(q.maxsize()));
  say(tk, "main got " + co_await q.get());
  say(tk, r(q));
  say(tk, "main got " + q.get_nowait());
  say(tk, r(q));
  co_await scenario::wait_all(ts);
  say(tk, r(q));
  tk.stop();
}

TEST(Queue, PutWaitsWhileFullAndEachGetLetsOnePutterIn) {
  EXPECT_EQ(scenario::run(put_waits_when_full()), scenario::expected("test_queues/put_waits_when_full"));
}

asyncio::Coro<void> getter_cancelled_at_wakeup() {
  Ticker tk;
  asyncio::Queue<int> q;
  Tasks ts;
  for (auto n : {"A", "B", "C"}) ts.push_back(asyncio::create_task(getter(tk, q, n)));
  co_await asyncio::sleep(0);
  q.put_nowait(1);  // wakes A
  ts[0].cancel();   // A is cancelled at the moment of its wake-up: 1 goes to B
  say(tk, r(q));
  co_await asyncio::sleep(0);
  say(tk, r(q));
  q.put_nowait(2);
  co_await scenario::wait_all(ts);
  say(tk, r(q) + " A.cancelled=" + tf(ts[0].cancelled()));
  tk.stop();
}

TEST(Queue, GetterCancelledAtTheMomentOfWakeUpPassesTheItemOn) {
  EXPECT_EQ(scenario::run(getter_cancelled_at_wakeup()), scenario::expected("test_queues/getter_cancelled_at_wakeup"));
}

asyncio::Coro<void> getter_cancelled_while_waiting() {
  Ticker tk;
  asyncio::Queue<int> q;
  Tasks ts;
  for (auto n : {"A", "B"}) ts.push_back(asyncio::create_task(getter(tk, q, n)));
  co_await asyncio::sleep(0);
  ts[0].cancel();
  say(tk, r(q));
  q.put_nowait(1);  // A's getter is cancelled: B is woken
  say(tk, r(q));
  co_await scenario::wait_all(ts);
  say(tk, r(q));
  tk.stop();
}

TEST(Queue, GetterCancelledWhileWaitingIsSkippedAndTakesNothing) {
  EXPECT_EQ(scenario::run(getter_cancelled_while_waiting()), scenario::expected("test_queues/getter_cancelled_while_waiting"));
}

asyncio::Coro<void> putter_cancelled_at_wakeup() {
  Ticker tk;
  asyncio::Queue<std::string> q(1);
  q.put_nowait("x");
  Tasks ts;
  for (auto [n, v] : {std::pair{"A", "a"}, {"B", "b"}, {"C", "c"}})
    ts.push_back(asyncio::create_task(putter(tk, q, n, std::string(v))));
  co_await asyncio::sleep(0);
  say(tk, "main got " + q.get_nowait());  // wakes A
  ts[0].cancel();                          // A is cancelled at its wake-up: the slot goes to B
  say(tk, r(q));
  co_await asyncio::sleep(0);
  say(tk, r(q));
  say(tk, "main got " + co_await q.get());
  co_await scenario::wait_all(ts);
  say(tk, r(q) + " A.cancelled=" + tf(ts[0].cancelled()));
  tk.stop();
}

TEST(Queue, PutterCancelledAtTheMomentOfWakeUpPassesTheFreeSlotOn) {
  EXPECT_EQ(scenario::run(putter_cancelled_at_wakeup()), scenario::expected("test_queues/putter_cancelled_at_wakeup"));
}

asyncio::Coro<void> woken_getter_robbed() {
  Ticker tk;
  asyncio::Queue<int> q;
  Tasks ts;
  for (auto n : {"A", "B"}) ts.push_back(asyncio::create_task(getter(tk, q, n)));
  co_await asyncio::sleep(0);
  q.put_nowait(1);                                           // wakes A
  say(tk, "main took " + str(q.get_nowait()) + " first");  // before A runs
  say(tk, r(q));
  co_await asyncio::sleep(0);
  say(tk, r(q));  // A waits again, behind B
  q.put_nowait(2);
  q.put_nowait(3);
  co_await scenario::wait_all(ts);
  tk.stop();
}

TEST(Queue, WokenGetterWhoseItemWasTakenWaitsAgainAtTheBack) {
  EXPECT_EQ(scenario::run(woken_getter_robbed()), scenario::expected("test_queues/woken_getter_robbed"));
}

asyncio::Coro<void> woken_putter_robbed() {
  Ticker tk;
  asyncio::Queue<std::string> q(1);
  q.put_nowait("x");
  Tasks ts;
  for (auto [n, v] : {std::pair{"A", "a"}, {"B", "b"}})
    ts.push_back(asyncio::create_task(putter(tk, q, n, std::string(v))));
  co_await asyncio::sleep(0);
  say(tk, "main got " + q.get_nowait());  // wakes A
  q.put_nowait("m");                       // main takes the slot first
  say(tk, r(q));
  co_await asyncio::sleep(0);
  say(tk, r(q));
  for (int i = 0; i < 3; ++i) say(tk, "main got " + co_await q.get());
  co_await scenario::wait_all(ts);
  tk.stop();
}

TEST(Queue, WokenPutterWhoseSlotWasTakenWaitsAgainAtTheBack) {
  EXPECT_EQ(scenario::run(woken_putter_robbed()), scenario::expected("test_queues/woken_putter_robbed"));
}

asyncio::Coro<void> joiner(Ticker& tk, asyncio::Queue<int>& q, std::string name) {
  co_await q.join();
  say(tk, name + " joined");
}

asyncio::Coro<void> join_task_done() {
  Ticker tk;
  asyncio::Queue<int> q;
  auto j0 = asyncio::create_task(joiner(tk, q, "J0"));
  co_await asyncio::sleep(0);
  say(tk, "J0.done=" + tf(j0.done()));
  q.put_nowait(1);
  q.put_nowait(2);
  Tasks ts;
  for (auto n : {"J1", "J2"}) ts.push_back(asyncio::create_task(joiner(tk, q, n)));
  co_await asyncio::sleep(0);
  say(tk, r(q));
  q.get_nowait();
  q.task_done();
  say(tk, r(q));
  q.get_nowait();
  co_await asyncio::sleep(0);
  say(tk, "unfinished " + std::to_string(q.unfinished_tasks()));
  q.task_done();
  say(tk, r(q));
  co_await scenario::wait_all(ts);
  try {
    q.task_done();
  } catch (const asyncio::ValueError& e) {
    say(tk, std::string("ValueError: ") + e.what());
  }
  tk.stop();
}

TEST(Queue, JoinWaitsUntilEveryItemPutIsMarkedDone) {
  EXPECT_EQ(scenario::run(join_task_done()), scenario::expected("test_queues/join_task_done"));
}

asyncio::Coro<void> shutdown_wakes_everyone() {
  Ticker tk;
  asyncio::Queue<std::string> q(1);
  Tasks gs;
  for (auto n : {"A", "B"}) gs.push_back(asyncio::create_task(getter(tk, q, n)));
  co_await asyncio::sleep(0);
  q.put_nowait("1");  // wakes A
  Tasks ps;
  for (auto [n, v] : {std::pair{"C", "c"}, {"D", "d"}})
    ps.push_back(asyncio::create_task(putter(tk, q, n, std::string(v))));
  co_await asyncio::sleep(0);
  say(tk, r(q));
  q.shutdown();
  say(tk, r(q));
  co_await scenario::wait_all(gs);
  co_await scenario::wait_all(ps);
  say(tk, r(q));
  try {
    q.put_nowait("5");
  } catch (const asyncio::QueueShutDown&) {
    say(tk, "put_nowait: QueueShutDown");
  }
  try {
    q.get_nowait();
  } catch (const asyncio::QueueShutDown&) {
    say(tk, "get_nowait: QueueShutDown");
  }
  tk.stop();
}

TEST(Queue, ShutdownWakesEveryWaiterAndLaterPutsRaiseQueueShutDown) {
  EXPECT_EQ(scenario::run(shutdown_wakes_everyone()), scenario::expected("test_queues/shutdown_wakes_everyone"));
}

asyncio::Coro<void> shutdown_leaves_items() {
  Ticker tk;
  asyncio::Queue<int> q;
  for (int i = 0; i < 3; ++i) q.put_nowait(i);
  q.shutdown();
  say(tk, r(q));
  int a = co_await q.get();
  int b = q.get_nowait();
  say(tk, "got " + str(a) + " " + str(b));
  try {
    co_await q.put(9);
  } catch (const asyncio::QueueShutDown&) {
    say(tk, "put: QueueShutDown");
  }
  q.task_done();
  q.task_done();
  say(tk, r(q));
  q.shutdown(true);
  say(tk, r(q));
  co_await q.join();
  say(tk, "joined");
  try {
    co_await q.get();
  } catch (const asyncio::QueueShutDown&) {
    say(tk, "get: QueueShutDown");
  }
  tk.stop();
}

TEST(Queue, AfterShutdownGetsReturnTheItemsLeftUntilImmediateShutdownDropsThem) {
  EXPECT_EQ(scenario::run(shutdown_leaves_items()), scenario::expected("test_queues/shutdown_leaves_items"));
}

asyncio::Coro<void> shutdown_immediate_releases_join() {
  Ticker tk;
  asyncio::Queue<int> q;
  for (int i = 0; i < 3; ++i) q.put_nowait(i);
  auto j = asyncio::create_task(joiner(tk, q, ""));
  co_await asyncio::sleep(0);
  say(tk, r(q));
  q.shutdown(true);
  say(tk, r(q));
  Tasks ts;
  ts.push_back(asyncio::create_task(getter(tk, q, "A")));
  ts.push_back(j);
  co_await scenario::wait_all(ts);
  tk.stop();
}

TEST(Queue, ImmediateShutdownCountsDroppedItemsAsDoneAndReleasesJoin) {
  EXPECT_EQ(scenario::run(shutdown_immediate_releases_join()), scenario::expected("test_queues/shutdown_immediate_releases_join"));
}

template <class Q>
void drain_into_log(Q& q, const char* name) {
  for (int item : {3, 1, 4, 1, 5}) q.put_nowait(item);
  note(r(q));
  std::string out = std::string(name) + ": [";
  for (std::size_t i = 0, n = q.qsize(); i < n; ++i) out += (i ? ", " : "") + str(q.get_nowait());
  note(out + "]");
}

asyncio::Coro<void> kinds() {
  asyncio::Queue<int> fifo;
  asyncio::LifoQueue<int> lifo;
  asyncio::PriorityQueue<int> prio;
  drain_into_log(fifo, "Queue");
  drain_into_log(lifo, "LifoQueue");
  drain_into_log(prio, "PriorityQueue");
  asyncio::Queue<std::string> s;
  s.put_nowait("a");
  s.put_nowait("b");
  note(r(s));
  try {
    asyncio::Queue<int>().get_nowait();
  } catch (const asyncio::QueueEmpty&) {
    note("QueueEmpty");
  }
  asyncio::Queue<int> one(1);
  one.put_nowait(1);
  try {
    one.put_nowait(2);
  } catch (const asyncio::QueueFull&) {
    note("QueueFull");
  }
  co_return;
}

TEST(Queues, FifoLifoAndPriorityOrderAndPrintAsPython) {
  EXPECT_EQ(scenario::run(kinds()), scenario::expected("test_queues/kinds"));
}


asyncio::Coro<void> waiters_leave_the_line_when_woken() {
  Ticker tk;
  asyncio::Queue<int> q;
  Tasks ts;
  for (auto n : {"A", "B", "C", "D"}) ts.push_back(asyncio::create_task(getter(tk, q, n)));
  co_await asyncio::sleep(0);
  say(tk, r(q));
  q.put_nowait(1);  // wakes A: A leaves the line now
  say(tk, r(q));
  ts[1].cancel();  // B stays in the line until it runs
  say(tk, r(q));
  q.put_nowait(2);  // passes B (cancelled), wakes C
  say(tk, r(q));
  co_await asyncio::sleep(0);
  say(tk, r(q));  // A, B and C ran: D waits alone
  EXPECT_EQ(q.getters(), 1u);
  q.put_nowait(3);
  co_await scenario::wait_all(ts);
  asyncio::Queue<int> full(1);
  full.put_nowait(0);
  Tasks ps;
  ps.push_back(asyncio::create_task(putter(tk, full, "P", 1)));
  ps.push_back(asyncio::create_task(putter(tk, full, "Q", 2)));
  co_await asyncio::sleep(0);
  say(tk, r(full));
  say(tk, "got " + str(full.get_nowait()));  // wakes P
  say(tk, r(full));
  EXPECT_EQ(full.putters(), 1u);
  Tasks first{ps[0]};
  co_await scenario::wait_all(std::move(first));
  say(tk, r(full));
  say(tk, "got " + str(full.get_nowait()));  // wakes Q
  co_await scenario::wait_all(ps);
  say(tk, r(full));
  tk.stop();
}

TEST(Queue, WokenWaitersLeaveTheLineAtOnceCancelledOnesWhenPassedOrRun) {
  EXPECT_EQ(scenario::run(waiters_leave_the_line_when_woken()),
            scenario::expected("test_queues/waiters_leave_the_line_when_woken"));
}

// W2's ping-pong (bench/w2_pingpong.cpp): every get waits and is woken plainly
// (put by the other task, not cancelled, not orphaned), the path on which the
// awaiter forgets its unlinked entry instead of destroying it
// (EntryAwaiter::forget_inert_entry, asserted in Debug builds). Every value
// comes back in order, the waits leave no waiter and no frame behind, and a
// get cancelled in the middle of the exchange still raises CancelledError
// and leaves the queue usable. Python twin (3.11), same counts:
//   async def main():
//       there, back = asyncio.Queue(1), asyncio.Queue(1)
//       async def consumer():
//           for _ in range(1000): await back.put(await there.get())
//       c = asyncio.create_task(consumer())
//       got = []
//       for i in range(1000):
//           await there.put(i); got.append(await back.get())
//       await c
//       assert got == list(range(1000)) and not there._getters and not back._getters
//       t = asyncio.create_task(there.get()); await asyncio.sleep(0); t.cancel()
//       try: await t
//       except asyncio.CancelledError: print("cancelled")
//       there.put_nowait(7); print(await there.get(), len(there._getters))
TEST(Queue, PingPongWaitsEndPlainlyAndLeaveNothingBehind) {
  using Q = asyncio::Queue<int>;
  std::vector<int> got;
  std::string after_cancel;
  test::run_virtual([&]() -> asyncio::Coro<> {
    Q there(1), back(1);
    auto consumer = [&]() -> asyncio::Coro<> {
      for (int i = 0; i < 1000; ++i) co_await back.put(co_await there.get());
    };
    auto c = asyncio::create_task(consumer());
    for (int i = 0; i < 1000; ++i) {
      co_await there.put(i);
      got.push_back(co_await back.get());
    }
    co_await c;
    EXPECT_EQ(there.getters() + back.getters() + there.putters() + back.putters(), 0u);
    auto getter = [&]() -> asyncio::Coro<int> { co_return co_await there.get(); };
    auto t = asyncio::create_task(getter());
    co_await asyncio::sleep(0s);
    EXPECT_EQ(there.getters(), 1u);
    t.cancel();
    try {
      co_await t;
    } catch (const asyncio::CancelledError&) {
      after_cancel = "cancelled";
    }
    there.put_nowait(7);
    after_cancel += " " + std::to_string(co_await there.get()) + " " + std::to_string(there.getters());
  }());
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(got[i], i);
  EXPECT_EQ(after_cancel, "cancelled 7 0");
  test::expect_no_frames();
}

// ---- the FIFO store: a ring that grows from any start ------------------------------

/// Counts the live objects, to see that the ring neither leaks nor destroys twice.
struct Counted {
  static inline int live = 0;
  int v;
  explicit Counted(int x) : v(x) { ++live; }
  Counted(Counted&& o) noexcept : v(o.v) { ++live; }
  Counted(const Counted&) = delete;
  ~Counted() { --live; }
};

// For every start slot of a 4-slot ring and then of an 8-slot one, growth
// happens with the oldest item at that slot (the items wrapped or not): FIFO
// order must hold across it, compared with std::deque.
TEST(FifoStore, GrowsFromAnyStartSlotKeepingFifoOrder) {
  for (int start = 0; start < 8; ++start) {
    {
      asyncio::detail::FifoStore<Counted> ring;
      std::deque<int> model;
      int next = 0;
      // Move the head to `start` within the capacity reached so far.
      ring.push(Counted(next++));
      ring.push(Counted(next++));
      ring.push(Counted(next++));
      ring.push(Counted(next++));
      ring.push(Counted(next++));  // capacity 8
      for (int k = 0; k < 5; ++k) EXPECT_EQ(ring.pop().v, k);
      for (int k = 0; k < start; ++k) {
        ring.push(Counted(next++));
        EXPECT_EQ(ring.pop().v, next - 1);
      }
      // Fill past the capacity: the ring grows with its head at (5 + start) % 8.
      for (int k = 0; k < 20; ++k) {
        ring.push(Counted(next));
        model.push_back(next++);
        if (k % 3 == 2) {
          EXPECT_EQ(ring.pop().v, model.front());
          model.pop_front();
        }
        EXPECT_EQ(ring.size(), model.size());
      }
      EXPECT_EQ(ring.capacity(), 16u);
      std::vector<int> seen;
      ring.for_each([&](const Counted& c) { seen.push_back(c.v); });
      EXPECT_EQ(seen, std::vector<int>(model.begin(), model.end())) << "start " << start;
      while (!model.empty()) {
        EXPECT_EQ(ring.pop().v, model.front());
        model.pop_front();
      }
      EXPECT_EQ(Counted::live, 0);
      ring.push(Counted(1));
      ring.push(Counted(2));
      EXPECT_EQ(Counted::live, 2);
    }  // the destructor destroys what is left
    EXPECT_EQ(Counted::live, 0);
  }
}

/// Copyable, with a move that may throw: the ring copies it when it grows,
/// and a copy can be made to fail.
struct Fragile {
  static inline int copies_left = 1000;
  std::string v;
  explicit Fragile(std::string s) : v(std::move(s)) {}
  Fragile(const Fragile& o) : v(o.v) {
    if (--copies_left < 0) throw std::runtime_error("copy failed");
  }
  Fragile(Fragile&& o) noexcept(false) : v(std::move(o.v)) {}
};

TEST(FifoStore, AGrowthThatThrowsLeavesTheItemsAsTheyWere) {
  asyncio::detail::FifoStore<Fragile> ring;
  for (const char* s : {"a", "b", "c", "d", "e"}) ring.push(Fragile(s));  // grew from 4 to 8 by copies
  EXPECT_EQ(ring.pop().v, "a");
  for (const char* s : {"f", "g", "h", "i"}) ring.push(Fragile(s));  // full, wrapped: b..h at slots 1-7, i at 0
  EXPECT_EQ(ring.size(), 8u);
  Fragile::copies_left = 3;  // the fourth copy of the growth fails
  EXPECT_THROW(ring.push(Fragile("j")), std::runtime_error);
  Fragile::copies_left = 1000;
  EXPECT_EQ(ring.size(), 8u);
  EXPECT_EQ(ring.capacity(), 8u);
  std::string order;
  ring.for_each([&](const Fragile& f) { order += f.v; });
  EXPECT_EQ(order, "bcdefghi");
  ring.push(Fragile("j"));
  EXPECT_EQ(ring.capacity(), 16u);
  order.clear();
  while (ring.size() > 0) order += ring.pop().v;
  EXPECT_EQ(order, "bcdefghij");
}

// The same through Queue: an unbounded queue whose items wrap, grown, printed
// and drained in order.
TEST(Queue, UnboundedQueueKeepsFifoOrderAcrossGrowthAndPrintsItOldestFirst) {
  asyncio::Queue<std::string> q;
  for (int i = 0; i < 3; ++i) q.put_nowait("x" + std::to_string(i));
  EXPECT_EQ(q.get_nowait(), "x0");
  EXPECT_EQ(q.get_nowait(), "x1");
  for (int i = 3; i < 6; ++i) q.put_nowait("x" + std::to_string(i));  // wraps in the 4-slot ring
  EXPECT_EQ(r(q), "<Queue maxsize=0 _queue=['x2', 'x3', 'x4', 'x5'] tasks=6>");
  q.put_nowait("x6");  // grows
  EXPECT_EQ(q.qsize(), 5u);
  EXPECT_EQ(r(q), "<Queue maxsize=0 _queue=['x2', 'x3', 'x4', 'x5', 'x6'] tasks=7>");
  for (int i = 2; i <= 6; ++i) EXPECT_EQ(q.get_nowait(), "x" + std::to_string(i));
  EXPECT_TRUE(q.empty());
  EXPECT_THROW(q.get_nowait(), asyncio::QueueEmpty);
}

// ---- move-only items, comparators, misuse, properties ------------------------------

asyncio::Coro<void> move_only_items() {
  asyncio::Queue<std::unique_ptr<int>> q(1);
  auto consumer = [](asyncio::Queue<std::unique_ptr<int>>& q) -> asyncio::Coro<int> {
    int sum = 0;
    for (int i = 0; i < 3; ++i) {
      std::unique_ptr<int> p = co_await q.get();
      sum += *p;
    }
    co_return sum;
  };
  auto c = asyncio::create_task(consumer(q));
  for (int i = 1; i <= 3; ++i) co_await q.put(std::make_unique<int>(i * 10));
  EXPECT_EQ(co_await c, 60);
  q.put_nowait(std::make_unique<int>(1));
  auto kept = std::make_unique<int>(2);
  EXPECT_THROW(q.put_nowait(std::move(kept)), asyncio::QueueFull);
  EXPECT_TRUE(kept);  // not moved from: the put failed
  if (!kept) co_return;
  EXPECT_EQ(*kept, 2);
  EXPECT_EQ(*q.get_nowait(), 1);
  EXPECT_EQ(r(q), "<Queue maxsize=1 tasks=4>");
  struct Job {
    std::unique_ptr<int> payload;
  };
  asyncio::Queue<Job> jobs;
  jobs.put_nowait(Job{std::move(kept)});
  EXPECT_EQ(r(jobs), "<Queue maxsize=0 _queue=[...] tasks=1>");  // unprintable items print as ...
  EXPECT_EQ(*(co_await jobs.get()).payload, 2);
}

TEST(Queue, CarriesMoveOnlyItemsAndPutNowaitKeepsTheItemWhenItFails) {
  scenario::run(move_only_items());
}

struct ByPriority {
  bool operator()(const std::pair<int, std::unique_ptr<std::string>>& a,
                  const std::pair<int, std::unique_ptr<std::string>>& b) const {
    return a.first < b.first;
  }
};

TEST(PriorityQueue, OrdersByTheGivenComparatorLowestFirst) {
  asyncio::PriorityQueue<int, std::greater<int>> highest_first;
  for (int v : {3, 1, 4, 1, 5, 9, 2, 6}) highest_first.put_nowait(v);
  std::vector<int> out;
  while (!highest_first.empty()) out.push_back(highest_first.get_nowait());
  EXPECT_EQ(out, (std::vector<int>{9, 6, 5, 4, 3, 2, 1, 1}));

  asyncio::PriorityQueue<std::pair<int, std::unique_ptr<std::string>>, ByPriority> jobs;
  jobs.put_nowait({2, std::make_unique<std::string>("write")});
  jobs.put_nowait({1, std::make_unique<std::string>("read")});
  jobs.put_nowait({3, std::make_unique<std::string>("close")});
  std::string order;
  while (!jobs.empty()) order += *jobs.get_nowait().second + " ";
  EXPECT_EQ(order, "read write close ");
}

TEST(Queue, NegativeMaxsizeIsAValueError) {
  EXPECT_THROW(asyncio::Queue<int>(-1), asyncio::ValueError);
  EXPECT_FALSE(asyncio::Queue<int>(0).full());
  asyncio::Queue<int> unbounded;
  for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
  EXPECT_FALSE(unbounded.full());
  EXPECT_EQ(unbounded.maxsize(), 0u);
}

TEST(Queues, ExceptionsHaveTheirPythonNames) {
  EXPECT_EQ(asyncio::exception_type_name(std::make_exception_ptr(asyncio::QueueEmpty())), "QueueEmpty");
  EXPECT_EQ(asyncio::exception_type_name(std::make_exception_ptr(asyncio::QueueFull())), "QueueFull");
  EXPECT_EQ(asyncio::exception_type_name(std::make_exception_ptr(asyncio::QueueShutDown())),
            "QueueShutDown");
  EXPECT_EQ(asyncio::exception_repr(std::make_exception_ptr(asyncio::QueueShutDown())), "QueueShutDown()");
}

asyncio::Coro<void> queue_dies() {
  auto q = std::make_unique<asyncio::Queue<int>>();
  auto waiter = [](asyncio::Queue<int>& q) -> asyncio::Coro<std::string> {
    try {
      co_await q.get();
    } catch (const asyncio::RuntimeError& e) {
      co_return e.what();
    }
    co_return "got";
  };
  auto t = asyncio::create_task(waiter(*q));
  co_await asyncio::sleep(0);
  q.reset();
  EXPECT_EQ(co_await t, "asyncio::Queue destroyed while a task was waiting on it");
}

TEST(Queue, DestroyedWhileATaskWaitsGivesThatTaskRuntimeError) { scenario::run(queue_dies()); }

struct Lcg {
  std::uint64_t x;
  unsigned next(unsigned n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<unsigned>((x >> 33) % n);
  }
};

asyncio::Coro<void> stress_producer(asyncio::Queue<int>& q, int base, long& put_sum, Lcg& rng) {
  for (int i = 0; i < 100; ++i) {
    co_await q.put(base + i);
    put_sum += base + i;
    if (rng.next(3) == 0) co_await asyncio::sleep(std::chrono::microseconds(rng.next(200)));
  }
}

asyncio::Coro<void> stress_consumer(asyncio::Queue<int>& q, long& got_sum, Lcg& rng) {
  for (;;) {
    int v = co_await q.get();
    got_sum += v;
    q.task_done();
    if (rng.next(3) == 0) co_await asyncio::sleep(std::chrono::microseconds(rng.next(200)));
  }
}

asyncio::Coro<void> stress_canceller(Tasks& ts, Lcg& rng) {
  for (int i = 0; i < 60; ++i) {
    co_await asyncio::sleep(std::chrono::microseconds(rng.next(300)));
    ts[rng.next(static_cast<unsigned>(ts.size()))].cancel();
  }
}

asyncio::Coro<void> random_cancellations_lose_no_item() {
  asyncio::Queue<int> q(2);
  Lcg rng{7};
  long put_sum = 0, got_sum = 0;
  Tasks producers, consumers, all;
  for (int p = 0; p < 8; ++p) producers.push_back(asyncio::create_task(stress_producer(q, p * 1000, put_sum, rng)));
  for (int c = 0; c < 8; ++c) consumers.push_back(asyncio::create_task(stress_consumer(q, got_sum, rng)));
  all = producers;
  all.insert(all.end(), consumers.begin(), consumers.end());
  co_await stress_canceller(all, rng);
  co_await scenario::wait_all(producers);
  // Drain with one fresh consumer, so that every item put is accounted for.
  auto last = asyncio::create_task(stress_consumer(q, got_sum, rng));
  while (!q.empty() || q.getters() == 0) co_await asyncio::sleep(1ms);
  int cancelled = 0;
  for (auto& t : all) cancelled += t.cancelled() ? 1 : 0;
  EXPECT_GT(cancelled, 10);
  EXPECT_EQ(got_sum, put_sum);  // no item lost, none duplicated
  EXPECT_EQ(q.putters(), 0u);
  co_await q.join();  // every item got was marked done
  for (auto& t : consumers) t.cancel();
  last.cancel();
  co_await scenario::wait_all(consumers);
}

TEST(Queue, RandomCancellationsOfPuttersAndGettersLoseNoItem) {
  scenario::run(random_cancellations_lose_no_item());
}

asyncio::Coro<void> shutdown_immediate_with_putters() {
  Ticker tk;
  asyncio::Queue<std::string> q(1);
  q.put_nowait("x");
  Tasks ps;
  for (auto [n, v] : {std::pair{"A", "a"}, {"B", "b"}})
    ps.push_back(asyncio::create_task(putter(tk, q, n, std::string(v))));
  co_await asyncio::sleep(0);
  q.shutdown(true);
  say(tk, r(q));
  co_await scenario::wait_all(ps);
  say(tk, r(q) + " empty=" + tf(q.empty()));
  tk.stop();
}

TEST(Queue, ImmediateShutdownWakesWaitingPuttersWithQueueShutDown) {
  EXPECT_EQ(scenario::run(shutdown_immediate_with_putters()), scenario::expected("test_queues/shutdown_immediate_with_putters"));
}


asyncio::Coro<void> get_under_wait_for() {
  asyncio::Queue<int> q;
  bool timed_out = false;
  try {
    co_await asyncio::wait_for(q.get(), 10ms);  // Python: await asyncio.wait_for(q.get(), 0.01)
  } catch (const asyncio::TimeoutError&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(q.getters(), 0u);  // the cancelled getter left the line
  q.put_nowait(7);
  EXPECT_EQ(co_await asyncio::wait_for(q.get(), 10ms), 7);
  asyncio::Queue<int> full(1);
  full.put_nowait(1);
  EXPECT_THROW(co_await asyncio::wait_for(full.put(2), 10ms), asyncio::TimeoutError);
  EXPECT_EQ(full.qsize(), 1u);
  EXPECT_EQ(full.get_nowait(), 1);
}

TEST(Queue, GetAndPutUnderWaitForTimeOutAndLeaveNothingBehind) { scenario::run(get_under_wait_for()); }

}  // namespace
