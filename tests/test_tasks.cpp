// Tasks: scheduling order, cancellation, exceptions, reporting (tasks.hpp).
#include "asyncio/tasks.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <sstream>

#include "asyncio/repr.hpp"

#include "support.hpp"

using namespace std::chrono_literals;
using testing::ElementsAre;

namespace {

asyncio::Coro<> record(test::Log& log, std::string name, int steps) {
  for (int i = 1; i <= steps; ++i) {
    log(name + std::to_string(i));
    co_await asyncio::sleep(0);
  }
}

TEST(Task, TasksStartInCreationOrderOnTheNextIteration) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto a = asyncio::create_task(record(log, "a", 1));
    auto b = asyncio::create_task(record(log, "b", 1));
    log("main");  // creating a task runs nothing yet
    co_await a;
    co_await b;
  }());
  EXPECT_THAT(log.items, ElementsAre("main", "a1", "b1"));
  test::expect_no_frames();
}

TEST(Task, SleepZeroYieldsForExactlyOneIteration) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto a = asyncio::create_task(record(log, "a", 3));
    auto b = asyncio::create_task(record(log, "b", 3));
    co_await a;
    co_await b;
  }());
  EXPECT_THAT(log.items, ElementsAre("a1", "b1", "a2", "b2", "a3", "b3"));
  test::expect_no_frames();
}

TEST(Task, AwaitingACoroutineRunsItInlineWithoutALoopIteration) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto inner = [&]() -> asyncio::Coro<int> {
      log("inner");
      co_return 7;
    };
    asyncio::get_running_loop().call_soon([&] { log("callback"); });
    int v = co_await inner();
    log("got " + std::to_string(v));
    co_await asyncio::sleep(0);
  }());
  EXPECT_THAT(log.items, ElementsAre("inner", "got 7", "callback"));
  test::expect_no_frames();
}

TEST(Task, CoroutineDoesNotStartUntilAwaited) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto make = [&]() -> asyncio::Coro<> {
      log("body");
      co_return;
    };
    auto c = make();
    log("created");
    co_await std::move(c);
  }());
  EXPECT_THAT(log.items, ElementsAre("created", "body"));
  test::expect_no_frames();
}

TEST(Task, SleepsInterleaveByDeadline) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    double t0 = loop.time();
    auto sleeper = [&](double d, std::string name) -> asyncio::Coro<> {
      co_await asyncio::sleep(d);
      log(name + "@" + std::to_string(std::lround((loop.time() - t0) * 1000)));
    };
    auto a = asyncio::create_task(sleeper(0.3, "a"));
    auto b = asyncio::create_task(sleeper(0.1, "b"));
    auto c = asyncio::create_task(sleeper(0.2, "c"));
    co_await a;
    co_await b;
    co_await c;
  }());
  EXPECT_THAT(log.items, ElementsAre("b@100", "c@200", "a@300"));
  test::expect_no_frames();
}

TEST(Task, SleepWithResultReturnsTheResult) {
  int v = test::run_virtual([]() -> asyncio::Coro<int> { co_return co_await asyncio::sleep(1s, 42); }());
  EXPECT_EQ(v, 42);
  test::expect_no_frames();
}

TEST(Task, CancelThrowsCancelledErrorAtTheSuspensionPoint) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    // A lambda coroutine keeps its captures in the closure, which must outlive it.
    auto t_body = [&]() -> asyncio::Coro<> {
      log("start");
      try {
        co_await asyncio::sleep(10s);
        log("slept");
      } catch (const asyncio::CancelledError& e) {
        log(std::string("cancelled: ") + e.what());
        throw;
      }
    };
    auto t = asyncio::create_task(t_body());
    co_await asyncio::sleep(1s);
    EXPECT_TRUE(t.cancel("stop now"));
    EXPECT_FALSE(t.done());  // cancel only requests
    try {
      co_await t;
      ADD_FAILURE() << "awaiting a cancelled task must throw";
    } catch (const asyncio::CancelledError& e) {
      log(std::string("main saw: ") + e.what());
    }
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());  // already done
  }());
  EXPECT_THAT(log.items, ElementsAre("start", "cancelled: stop now", "main saw: stop now"));
  test::expect_no_frames();
}

TEST(Task, CancelBeforeStartNeverRunsTheBody) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto t = asyncio::create_task(record(log, "t", 1));
    t.cancel();
    co_await asyncio::sleep(0);
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_THROW(t.result(), asyncio::CancelledError);
  }());
  EXPECT_TRUE(log.items.empty());
  test::expect_no_frames();
}

TEST(Task, TaskMayCatchCancellationAndContinue) {
  int v = test::run_virtual([]() -> asyncio::Coro<int> {
    auto t = asyncio::create_task([]() -> asyncio::Coro<int> {
      try {
        co_await asyncio::sleep(10s);
      } catch (const asyncio::CancelledError&) {
      }
      co_await asyncio::sleep(1s);  // still a working task
      co_return 5;
    }());
    co_await asyncio::sleep(0);
    t.cancel();
    int r = co_await t;
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 1);  // the request is still counted
    co_return r;
  }());
  EXPECT_EQ(v, 5);
  test::expect_no_frames();
}

TEST(Task, CancelDuringTheLastStepEndsTheTaskCancelled) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto t = asyncio::create_task([]() -> asyncio::Coro<int> {
      asyncio::current_task().cancel();  // while running: _must_cancel
      co_return 1;
    }());
    co_await asyncio::sleep(0);
    EXPECT_TRUE(t.cancelled());
  }());
  test::expect_no_frames();
}

TEST(Task, CancelRequestedWhileRunningIsThrownAtTheNextAwait) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    // A lambda coroutine keeps its captures in the closure, which must outlive it.
    auto t_body = [&]() -> asyncio::Coro<> {
      asyncio::current_task().cancel("self");
      log("still running");
      try {
        co_await asyncio::sleep(1s);
      } catch (const asyncio::CancelledError& e) {
        log(std::string("thrown: ") + e.what());
      }
    };
    auto t = asyncio::create_task(t_body());
    co_await t;
  }());
  EXPECT_THAT(log.items, ElementsAre("still running", "thrown: self"));
  test::expect_no_frames();
}

TEST(Task, CancellingCountsRequestsAndUncancelTakesOneBack) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto t = asyncio::create_task([]() -> asyncio::Coro<int> {
      for (;;) {
        try {
          co_await asyncio::sleep(10s);
          co_return asyncio::current_task().cancelling();
        } catch (const asyncio::CancelledError&) {
          // swallow twice, as a timeout would after uncancel()
          if (asyncio::current_task().uncancel() > 0) continue;
        }
      }
    }());
    co_await asyncio::sleep(0);
    t.cancel();
    t.cancel();
    EXPECT_EQ(t.cancelling(), 2);
    EXPECT_EQ(co_await t, 1);  // one request taken back by uncancel
  }());
  test::expect_no_frames();
}

TEST(Task, CancellingATaskAwaitingAnotherTaskCancelsTheInnerOne) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    // A lambda coroutine keeps its captures in the closure, which must outlive it.
    auto inner_body = [&]() -> asyncio::Coro<> {
      try {
        co_await asyncio::sleep(10s);
      } catch (const asyncio::CancelledError&) {
        log("inner cancelled");
        throw;
      }
    };
    auto inner = asyncio::create_task(inner_body());
    // A lambda coroutine keeps its captures in the closure, which must outlive it.
    auto outer_body = [&]() -> asyncio::Coro<> {
      try {
        co_await inner;
      } catch (const asyncio::CancelledError&) {
        log("outer cancelled");
        throw;
      }
    };
    auto outer = asyncio::create_task(outer_body());
    co_await asyncio::sleep(1s);
    outer.cancel();
    try {
      co_await outer;
    } catch (const asyncio::CancelledError&) {
    }
    EXPECT_TRUE(inner.cancelled());
    EXPECT_TRUE(outer.cancelled());
  }());
  EXPECT_THAT(log.items, ElementsAre("inner cancelled", "outer cancelled"));
  test::expect_no_frames();
}

struct Oops : std::runtime_error {
  using std::runtime_error::runtime_error;
};

asyncio::Coro<int> fail_at(int depth) {
  if (depth == 0) {
    co_await asyncio::sleep(0);
    throw Oops("deep failure");
  }
  co_return co_await fail_at(depth - 1) + 1;
}

TEST(Task, ExceptionsPropagateThroughCoAwaitChainsAndTasks) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto t = asyncio::create_task(fail_at(5));
    try {
      co_await t;
      ADD_FAILURE() << "expected Oops";
    } catch (const Oops& e) {
      EXPECT_STREQ(e.what(), "deep failure");
    }
    EXPECT_FALSE(t.cancelled());
    EXPECT_TRUE(t.exception() != nullptr);
    EXPECT_THROW(t.result(), Oops);
  }());
  test::expect_no_frames();
}

TEST(Task, ResultOfAPendingTaskThrowsInvalidStateError) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto t = asyncio::create_task(asyncio::sleep(1s, 3));
    EXPECT_THROW(t.result(), asyncio::InvalidStateError);
    EXPECT_THROW(t.exception(), asyncio::InvalidStateError);
    EXPECT_EQ(co_await t, 3);
    EXPECT_EQ(t.result(), 3);
  }());
  test::expect_no_frames();
}

TEST(Task, UnretrievedExceptionIsReportedWhenTheLastHandleGoes) {
  std::vector<std::string> reports;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto& loop = asyncio::get_running_loop();
    loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
      reports.push_back(c.message + " / " + asyncio::exception_repr(c.exception));
    });
    {
      auto t = asyncio::create_task(fail_at(0));
      co_await asyncio::sleep(1s);
      EXPECT_TRUE(t.done());
      EXPECT_TRUE(reports.empty());  // a handle still exists
    }
    EXPECT_EQ(reports.size(), 1u);
    {
      auto t = asyncio::create_task(fail_at(0));
      co_await asyncio::sleep(1s);
      (void)t.exception();  // retrieved: nothing to report
    }
    asyncio::create_task(fail_at(0));  // fire and forget: reported when it fails
    co_await asyncio::sleep(1s);
  }());
  EXPECT_THAT(reports, ElementsAre("Task exception was never retrieved / Oops('deep failure')",
                                   "Task exception was never retrieved / Oops('deep failure')"));
  test::expect_no_frames();
}

TEST(Task, ATaskCannotAwaitItself) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto holder = std::make_shared<asyncio::Task<>>();
    *holder = asyncio::create_task([](std::shared_ptr<asyncio::Task<>> self) -> asyncio::Coro<> {
      co_await asyncio::sleep(0);
      EXPECT_THROW(co_await *self, asyncio::RuntimeError);
      self.reset();
    }(holder));
    co_await *holder;
    holder.reset();
  }());
  test::expect_no_frames();
}

TEST(Task, AwaitingACoroutineTwiceThrowsRuntimeError) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto c = asyncio::Coro<int>([]() -> asyncio::Coro<int> { co_return 1; }());
    EXPECT_EQ(co_await c, 1);
    EXPECT_THROW(co_await c, asyncio::RuntimeError);
  }());
  test::expect_no_frames();
}

TEST(Task, DoneCallbacksRunOnTheNextIterationInOrderAndCanBeRemoved) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto t = asyncio::create_task(asyncio::sleep(1s, 9));
    t.add_done_callback([&](asyncio::Task<int>& task) { log("first " + std::to_string(task.result())); });
    auto id = t.add_done_callback([&] { log("removed"); });
    t.add_done_callback([&] { log("third"); });
    EXPECT_EQ(t.remove_done_callback(id), 1u);
    EXPECT_EQ(t.remove_done_callback(id), 0u);
    co_await t;
    log("main resumed");
    co_await asyncio::sleep(0);
  }());
  // Callbacks run in registration order; main's wakeup was registered last
  // (checked against CPython 3.11: ['first 9', 'third', 'main resumed']).
  EXPECT_THAT(log.items, ElementsAre("first 9", "third", "main resumed"));
  test::expect_no_frames();
}

TEST(Task, CurrentTaskAndAllTasksSeeTheRunningTasks) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto me = asyncio::current_task();
    EXPECT_EQ(me.get_name(), me.get_name());
    auto t = asyncio::create_task(asyncio::sleep(1s), "sleeper");
    EXPECT_EQ(t.get_name(), "sleeper");
    t.set_name("renamed");
    auto tasks = asyncio::all_tasks();
    EXPECT_EQ(tasks.size(), 2u);
    EXPECT_TRUE(std::find(tasks.begin(), tasks.end(), me) != tasks.end());
    EXPECT_TRUE(std::find(tasks.begin(), tasks.end(), asyncio::AnyTask(t)) != tasks.end());
    co_await t;
    EXPECT_EQ(asyncio::all_tasks().size(), 1u);  // done tasks are not listed
  }());
  test::expect_no_frames();
}

// The loop keeps its pending tasks in a table where a task that finishes
// leaves a hole that a later task fills; all_tasks() still lists them in creation order
// (CPython returns a set: the same tasks, in no stated order). Python:
//   async def main():
//       ts = [asyncio.create_task(asyncio.sleep(1 if i in (1, 3) else 10), name=f"t{i}") for i in range(5)]
//       await asyncio.sleep(2)
//       print(sorted(t.get_name() for t in asyncio.all_tasks()))   # ['Task-1', 't0', 't2', 't4']
//       for t in ts: t.cancel()
TEST(Task, AllTasksListsThePendingOnesInCreationOrderAfterOthersFinish) {
  std::vector<std::string> names;
  std::string main_name;
  test::run_virtual([&]() -> asyncio::Coro<> {
    main_name = asyncio::current_task().get_name();
    std::vector<asyncio::Task<void>> ts;
    for (int i = 0; i < 5; ++i)
      ts.push_back(asyncio::create_task(asyncio::sleep(i == 1 || i == 3 ? 1s : 10s), "t" + std::to_string(i)));
    co_await asyncio::sleep(2s);
    for (const auto& t : asyncio::all_tasks()) names.push_back(t.get_name());
    // Three new tasks: two take the slots t1 and t3 left, the third a new one.
    std::vector<asyncio::Task<void>> late;
    for (int i = 0; i < 3; ++i) late.push_back(asyncio::create_task(asyncio::sleep(1s), "late" + std::to_string(i)));
    ts[0].cancel();
    co_await asyncio::sleep(0);  // t0 ends cancelled: its slot is free
    late.push_back(asyncio::create_task(asyncio::sleep(1s), "late3"));  // takes it
    late.push_back(asyncio::create_task(asyncio::sleep(1s), "late4"));  // a new slot
    for (const auto& t : asyncio::all_tasks()) names.push_back(t.get_name());
    for (auto& t : ts) t.cancel();
    for (auto& t : late) t.cancel();
  }());
  EXPECT_THAT(names, ElementsAre(main_name, "t0", "t2", "t4", main_name, "t2", "t4", "late0", "late1", "late2",
                                 "late3", "late4"));
  test::expect_no_frames();
}

// A table that is mostly holes is compacted (and an empty one given back):
// the tasks left keep their order and slots stay right for the next ones.
TEST(Task, AllTasksStaysInCreationOrderThroughTheTablesCompaction) {
  std::vector<std::string> names;
  std::size_t after_spike = 0;
  test::run_virtual([&]() -> asyncio::Coro<> {
    std::vector<asyncio::Task<void>> ts;
    for (int i = 0; i < 10'000; ++i)
      ts.push_back(asyncio::create_task(asyncio::sleep(i % 1000 == 7 ? 10s : 1s), "t" + std::to_string(i)));
    co_await asyncio::sleep(2s);  // 9,990 finished: the table was compacted on the way
    after_spike = asyncio::all_tasks().size();
    auto a = asyncio::create_task(asyncio::sleep(1s), "a");
    auto b = asyncio::create_task(asyncio::sleep(1s), "b");
    for (const auto& t : asyncio::all_tasks()) names.push_back(t.get_name());
    for (auto& t : ts) t.cancel();
    a.cancel();
    b.cancel();
  }());
  EXPECT_EQ(after_spike, 11u);  // main and t7, t1007, ..., t9007
  ASSERT_EQ(names.size(), 13u);
  EXPECT_EQ(names[1], "t7");
  EXPECT_EQ(names[10], "t9007");
  EXPECT_EQ(names[11], "a");
  EXPECT_EQ(names[12], "b");
  test::expect_no_frames();
}

TEST(Task, DefaultNamesAreTaskN) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto a = asyncio::create_task(asyncio::sleep(0));
    auto b = asyncio::create_task(asyncio::sleep(0));
    auto na = a.get_name(), nb = b.get_name();
    EXPECT_EQ(na.rfind("Task-", 0), 0u);
    EXPECT_EQ(std::stoi(nb.substr(5)), std::stoi(na.substr(5)) + 1);
    co_await a;
    co_await b;
  }());
}

TEST(Task, MoveOnlyResultsLeaveTheTaskOnlyThroughTake) {
  auto v = test::run_virtual([]() -> asyncio::Coro<std::unique_ptr<int>> {
    auto t = asyncio::create_task([]() -> asyncio::Coro<std::unique_ptr<int>> {
      co_await asyncio::sleep(0);
      co_return std::make_unique<int>(11);
    }());
    auto copy = t;
    auto out = co_await std::move(t).take();
    EXPECT_THROW_MSG(copy.result(), asyncio::InvalidStateError, "Result was taken out by take()");
    co_return out;
  }());
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 11);
  test::expect_no_frames();
}

TEST(Task, AMillionSynchronousAwaitsDoNotGrowTheStack) {
  long total = test::run_virtual([]() -> asyncio::Coro<long> {
    auto one = [](int i) -> asyncio::Coro<int> { co_return i % 3; };
    long sum = 0;
    for (int i = 0; i < 1'000'000; ++i) sum += co_await one(i);
    co_return sum;
  }());
  EXPECT_EQ(total, 999'999);
  test::expect_no_frames();
}

TEST(Task, PrintsItsStateLikeAsyncio) {
  test::run_virtual([]() -> asyncio::Coro<> {
    auto t = asyncio::create_task(asyncio::sleep(1s, 4), "four");
    std::ostringstream pending;
    pending << t;
    EXPECT_THAT(pending.str(), testing::StartsWith("<Task pending name='four'"));
    co_await t;
    std::ostringstream done;
    done << t;
    EXPECT_THAT(done.str(), testing::EndsWith("result=4>"));
  }());
}

// ---- cancel messages as CPython's Task keeps them (issue 9) ----

asyncio::Coro<> sleep_long() { co_await asyncio::sleep(10s); }

template <class F>
std::string cancelled_repr(F&& f) {
  try {
    f();
  } catch (const asyncio::CancelledError&) {
    return asyncio::exception_repr(std::current_exception());
  }
  return "no CancelledError";
}

// Python (3.11; 3.12 and 3.13 print the same):
//
//   async def sleeper():
//       await asyncio.sleep(10)
//
//   async def main():
//       t = asyncio.create_task(sleeper())
//       await asyncio.sleep(0)
//       t.cancel("a")
//       t.cancel("b")
//       try:
//           await t
//       except asyncio.CancelledError as e:
//           print("await:", repr(e))
//       for i in range(2):
//           try:
//               t.result()
//           except asyncio.CancelledError as e:
//               print("result:", repr(e))
//       u = asyncio.create_task(sleeper())
//       await asyncio.sleep(0)
//       u.cancel("m")
//       await asyncio.sleep(0)
//       for i in range(2):
//           try:
//               u.result()
//           except asyncio.CancelledError as e:
//               print("result:", repr(e))
//       try:
//           u.exception()
//       except asyncio.CancelledError as e:
//           print("exception:", repr(e))
//       f = asyncio.get_running_loop().create_future()
//       f.cancel("fm")
//       for i in range(2):
//           try:
//               f.result()
//           except asyncio.CancelledError as e:
//               print("future result:", repr(e))
//
// prints
//   await: CancelledError('a')
//   result: CancelledError()
//   result: CancelledError()
//   result: CancelledError('m')
//   result: CancelledError()
//   exception: CancelledError()
//   future result: CancelledError('fm')
//   future result: CancelledError('fm')
//
// (The first cancel reaches the awaited sleep, whose CancelledError('a') the
// task sees; a cancelled task hands its message to the first retrieval only.)
TEST(Task, CancelMessagesAreThoseCPythonReports) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto t = asyncio::create_task(sleep_long());
    co_await asyncio::sleep(0);
    t.cancel("a");
    t.cancel("b");
    std::exception_ptr awaited;
    try {
      co_await t;
    } catch (const asyncio::CancelledError&) {
      awaited = std::current_exception();
    }
    log("await: " + asyncio::exception_repr(awaited));
    for (int i = 0; i < 2; ++i) log("result: " + cancelled_repr([&] { t.result(); }));
    auto u = asyncio::create_task(sleep_long());
    co_await asyncio::sleep(0);
    u.cancel("m");
    co_await asyncio::sleep(0);
    for (int i = 0; i < 2; ++i) log("result: " + cancelled_repr([&] { u.result(); }));
    log("exception: " + cancelled_repr([&] { (void)u.exception(); }));
    auto f = asyncio::get_running_loop().create_future<int>();
    f.cancel("fm");
    for (int i = 0; i < 2; ++i) log("future result: " + cancelled_repr([&] { f.result(); }));
  }());
  EXPECT_THAT(log.items, ElementsAre("await: CancelledError('a')", "result: CancelledError()",
                                     "result: CancelledError()", "result: CancelledError('m')",
                                     "result: CancelledError()", "exception: CancelledError()",
                                     "future result: CancelledError('fm')", "future result: CancelledError('fm')"));
  test::expect_no_frames();
}

// Python (3.11-3.13):
//
//   async def main():
//       t = asyncio.create_task(asyncio.sleep(10), name="t")
//       await asyncio.sleep(0)
//       t.cancel()
//       print(repr(t).split(" coro=")[0], t.cancelling())
//       await asyncio.sleep(0)
//       print(repr(t).split(" coro=")[0], t.cancelling())
//
// prints
//   <Task cancelling name='t' 1
//   <Task cancelled name='t' 1
TEST(Task, ReprSaysCancellingWhileARequestIsPending) {
  test::Log log;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto t = asyncio::create_task(asyncio::sleep(10s), "t");
    co_await asyncio::sleep(0);
    t.cancel();
    auto head = [&] {
      std::ostringstream os;
      os << t;
      std::string r = os.str();
      return r.substr(0, r.find(" coro=")) + " " + std::to_string(t.cancelling());
    };
    log(head());
    co_await asyncio::sleep(0);
    log(head());
  }());
  EXPECT_THAT(log.items, ElementsAre("<Task cancelling name='t' 1", "<Task cancelled name='t' 1"));
  test::expect_no_frames();
}

// Python: t.remove_done_callback(fn) removes every registration of fn and
// returns the count:
//
//   def on_done(t): print("called")
//   async def main():
//       t = asyncio.create_task(asyncio.sleep(0))
//       t.add_done_callback(on_done); t.add_done_callback(on_done)
//       print(t.remove_done_callback(on_done), t.remove_done_callback(on_done))
//       await t; await asyncio.sleep(0)
//
// prints "2 0" and never "called".
int g_task_callbacks = 0;
void on_task_done(asyncio::AnyTask&) { ++g_task_callbacks; }
void on_task_done_plain() { ++g_task_callbacks; }

TEST(Task, RemoveDoneCallbackByCallableRemovesEveryRegistrationAndCountsThem) {
  g_task_callbacks = 0;
  std::vector<std::size_t> counts;
  test::run_virtual([&]() -> asyncio::Coro<> {
    auto t = asyncio::create_task(asyncio::sleep(0));
    asyncio::AnyTask any = t;
    any.add_done_callback(&on_task_done);
    t.add_done_callback(on_task_done_plain);
    t.add_done_callback(on_task_done_plain);
    auto kept = t.add_done_callback([] { g_task_callbacks += 100; });
    counts.push_back(t.remove_done_callback(on_task_done_plain));
    counts.push_back(t.remove_done_callback(on_task_done_plain));
    counts.push_back(any.remove_done_callback(on_task_done));
    (void)kept;
    co_await t;
    co_await asyncio::sleep(0);
  }());
  EXPECT_THAT(counts, ElementsAre(2u, 0u, 1u));
  EXPECT_EQ(g_task_callbacks, 100);  // only the lambda ran
  test::expect_no_frames();
}

}  // namespace
