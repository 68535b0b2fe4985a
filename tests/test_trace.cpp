// Tracing: one lane per task, one slice per step (trace.hpp).
#include "asyncio/trace.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "asyncio/executors.hpp"
#include "asyncio/locks.hpp"
#include "asyncio/queues.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/streams.hpp"
#include "asyncio/subprocess.hpp"
#include "asyncio/tasks.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;

namespace {

asyncio::Coro<> worker() {
  co_await asyncio::sleep(1s);
  co_await asyncio::sleep(1s);  // three steps: start, after each sleep
}

TEST(Trace, WritesOneNamedLanePerTaskAndASlicePerStep) {
  std::string path = testing::TempDir() + "asyncio_trace_test.json";
  asyncio::run(
      []() -> asyncio::Coro<> {
        auto t = asyncio::create_task(worker(), "worker");
        co_await t;
      }(),
      asyncio::RunOptions{.debug = false, .virtual_time = true, .trace_path = path});
  std::ifstream f(path);
  ASSERT_TRUE(f.good());
  auto j = nlohmann::json::parse(f);
  std::map<std::uint64_t, std::string> lanes;
  std::map<std::string, int> slices;
  std::vector<double> worker_ts;
  for (auto& e : j["traceEvents"]) {
    if (e["ph"] == "M") lanes[e["tid"].get<std::uint64_t>()] = e["args"]["name"];
  }
  for (auto& e : j["traceEvents"]) {
    if (e["ph"] != "X" || e["cat"] != "step") continue;
    std::string lane = lanes.at(e["tid"].get<std::uint64_t>());
    ++slices[lane];
    if (lane.rfind("worker", 0) == 0) worker_ts.push_back(e["ts"].get<double>());
  }
  EXPECT_EQ(lanes.size(), 2u);
  EXPECT_EQ(slices["worker worker()"], 3);
  // main: start, then woken when the worker is done
  EXPECT_EQ(slices.size(), 2u);
  ASSERT_EQ(worker_ts.size(), 3u);
  // virtual time: the steps are exactly 1 s apart
  EXPECT_DOUBLE_EQ(worker_ts[1] - worker_ts[0], 1e6);
  EXPECT_DOUBLE_EQ(worker_ts[2] - worker_ts[1], 1e6);
  std::remove(path.c_str());
}

// Python twin of the scenario (what each task waits on):
//   async def holder(lock, q): async with lock: await q.get()
//   async def waiter(lock): async with lock: pass
//   async def sleeper(): await asyncio.sleep(10)
//   async def failing(): await asyncio.sleep(0); raise ValueError("boom")
//   async def main():
//       lock, q = asyncio.Lock(), asyncio.Queue()
//       h = create_task(holder(lock, q)); w = create_task(waiter(lock)); s = create_task(sleeper())
//       f = create_task(failing())
//       await asyncio.sleep(1); q.put_nowait(1); await w
//       await loop.run_in_executor(None, lambda: 7)
//       s.cancel(); await asyncio.gather(s, f, return_exceptions=True)  # here awaited one by one
asyncio::Coro<> holder(asyncio::Lock& lock, asyncio::Queue<int>& q) {
  auto guard = co_await lock;
  co_await q.get();
}
asyncio::Coro<> waiter(asyncio::Lock& lock) { auto guard = co_await lock; }
asyncio::Coro<> sleeper() { co_await asyncio::sleep(10s); }
asyncio::Coro<> failing() {
  co_await asyncio::sleep(0s);
  throw asyncio::ValueError("boom");
}

struct Recorded {
  std::map<std::string, std::uint64_t> lane;                      // lane name -> tid
  std::multimap<std::uint64_t, nlohmann::json> events;            // tid -> its events, in order
  /// Reads the trace file at `path`.
  static Recorded load(const std::string& path) {
    std::ifstream file(path);
    auto j = nlohmann::json::parse(file);
    Recorded r;
    for (auto& e : j["traceEvents"]) {
      auto tid = e["tid"].get<std::uint64_t>();
      if (e["ph"] == "M") r.lane[e["args"]["name"]] = tid;
      r.events.emplace(tid, e);
    }
    return r;
  }
  std::vector<std::string> names(std::uint64_t tid, const char* ph, const char* cat = nullptr) const {
    std::vector<std::string> out;
    auto [b, e] = events.equal_range(tid);
    for (auto it = b; it != e; ++it)
      if (it->second["ph"] == ph && (cat == nullptr || it->second.value("cat", "") == cat))
        out.push_back(it->second["name"]);
    return out;
  }
};

TEST(Trace, RecordsWhatEachAwaitWaitsOnAndWhenATaskWasReadyButNotRunning) {
  std::string path = testing::TempDir() + "asyncio_trace_waits.json";
  asyncio::run(
      []() -> asyncio::Coro<> {
        asyncio::Lock lock;
        asyncio::Queue<int> q;
        auto h = asyncio::create_task(holder(lock, q), "holder");
        auto w = asyncio::create_task(waiter(lock), "waiter");
        auto s = asyncio::create_task(sleeper(), "sleeper");
        auto f = asyncio::create_task(failing(), "failing");
        co_await asyncio::sleep(1s);
        q.put_nowait(1);
        co_await w;
        co_await asyncio::get_running_loop().run_in_executor(nullptr, [] { return 7; });
        s.cancel();
        try {
          co_await s;
        } catch (const asyncio::CancelledError&) {
        }
        try {
          co_await f;  // already done: no wait
        } catch (const asyncio::ValueError&) {
        }
        co_await h;
      }(),
      asyncio::RunOptions{.debug = false, .virtual_time = true, .trace_path = path});
  Recorded r = Recorded::load(path);
  using V = std::vector<std::string>;
  EXPECT_EQ(r.names(r.lane.at("holder holder()"), "X", "wait"), (V{"asyncio::Queue get"}));
  EXPECT_EQ(r.names(r.lane.at("waiter waiter()"), "X", "wait"), (V{"asyncio::Lock"}));
  EXPECT_EQ(r.names(r.lane.at("sleeper sleeper()"), "X", "wait"), (V{"sleep"}));
  EXPECT_EQ(r.names(r.lane.at("sleeper sleeper()"), "i"), (V{"created", "cancel requested", "cancelled"}));
  EXPECT_EQ(r.names(r.lane.at("failing failing()"), "X", "wait"), (V{"sleep(0)"}));
  EXPECT_EQ(r.names(r.lane.at("failing failing()"), "i"), (V{"created", "raised"}));
  std::uint64_t main_lane = 0;
  for (auto& [name, tid] : r.lane)
    if (name.size() > 12 && name.compare(name.size() - 12, 12, "operator()()") == 0) main_lane = tid;
  EXPECT_EQ(r.names(main_lane, "X", "wait"), (V{"sleep", "task", "executor job", "task"}));
  // Each wait names the repr of what it is on.
  auto [b, e] = r.events.equal_range(r.lane.at("waiter waiter()"));
  bool saw_lock_repr = false;
  for (auto it = b; it != e; ++it)
    if (it->second.value("cat", "") == "wait")
      saw_lock_repr = it->second["args"]["on"].get<std::string>().find("<asyncio.locks.Lock object at ") == 0;
  EXPECT_TRUE(saw_lock_repr);
  for (auto it = r.events.begin(); it != r.events.end(); ++it)
    if (it->second["ph"] == "i" && it->second["name"] == "raised") {
      EXPECT_EQ(it->second["args"]["exception"], "ValueError: boom");
    }
  std::remove(path.c_str());
}

asyncio::Coro<> busy() {
  // Holds the loop's thread for a while: the other task is ready, not running.
  auto until = std::chrono::steady_clock::now() + 2ms;
  while (std::chrono::steady_clock::now() < until) {
  }
  co_return;
}
asyncio::Coro<> idle() { co_return; }

TEST(Trace, ATaskWokenWhileAnotherRunsIsReadyUntilItsStep) {
  std::string path = testing::TempDir() + "asyncio_trace_ready.json";
  asyncio::run(
      []() -> asyncio::Coro<> {
        auto a = asyncio::create_task(busy(), "busy");
        auto b = asyncio::create_task(idle(), "idle");
        co_await a;
        co_await b;
      }(),
      asyncio::RunOptions{.debug = false, .virtual_time = false, .trace_path = path});
  std::ifstream file(path);
  auto j = nlohmann::json::parse(file);
  std::uint64_t idle_lane = 0;
  for (auto& e : j["traceEvents"])
    if (e["ph"] == "M" && e["args"]["name"] == "idle idle()") idle_lane = e["tid"];
  std::vector<std::string> seq;
  for (auto& e : j["traceEvents"])
    if (e["tid"] == idle_lane && e["ph"] == "X") seq.push_back(e["cat"]);
  // Created (ready), then its only step once busy's step let the thread go.
  EXPECT_EQ(seq, (std::vector<std::string>{"ready", "step"}));
  std::remove(path.c_str());
}

TEST(Trace, IsOffByDefault) {
  bool tracing = asyncio::run([]() -> asyncio::Coro<bool> {
    co_return asyncio::get_running_loop().tracer() != nullptr;
  }());
  EXPECT_FALSE(tracing);
}

// Issue 8, defect 9: a task name that is not valid UTF-8 made the trace
// writer throw inside close(), after main had returned: run() lost main's
// result and left libuv open. The name is now written with U+FFFD for the
// bad bytes, after the loop's teardown.
TEST(Trace, ATaskNameThatIsNotUtf8DoesNotLoseTheResult) {
  std::string path = testing::TempDir() + "asyncio_trace_utf8_test.json";
  int result = asyncio::run(
      []() -> asyncio::Coro<int> {
        auto t = asyncio::create_task(worker(), "bad \xff\xfe name");
        co_await t;
        co_return 7;
      }(),
      asyncio::RunOptions{.debug = false, .virtual_time = true, .trace_path = path});
  EXPECT_EQ(result, 7);
  std::ifstream f(path);
  ASSERT_TRUE(f.good());
  auto j = nlohmann::json::parse(f);
  bool found = false;
  for (auto& e : j["traceEvents"]) {
    if (e["ph"] == "M" && e["args"]["name"] == "bad \xef\xbf\xbd\xef\xbf\xbd name worker()") found = true;
  }
  EXPECT_TRUE(found);
  std::remove(path.c_str());
}

// The I/O waits are named too: a task waiting for a stream's data waits on
// "stream read", one waiting for a child to exit on "child process" (what the
// timeline and print_all_tasks show; CPython shows a bare Future for both).
// On the real clock: the server answers after a real 20 ms.
asyncio::Coro<> reply_later(asyncio::StreamReader, asyncio::StreamWriter w) {
  co_await asyncio::sleep(0.02);
  w.write("hello\n");
  co_await w.drain();
  w.close();
  co_await w.wait_closed();
}
asyncio::Coro<std::string> read_line(int port) {
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
  std::string line = co_await reader.readline();
  writer.close();
  co_await writer.wait_closed();
  co_return line;
}
asyncio::Coro<int> run_child() {
  asyncio::Process p = co_await asyncio::create_subprocess_exec("sleep", "0.02");
  co_return co_await p.wait();
}

TEST(Trace, NamesStreamReadsAndChildProcessesAsWhatATaskWaitsOn) {
  std::string path = testing::TempDir() + "asyncio_trace_io.json";
  std::string line;
  int code = -1;
  {
    test::Watchdog dog("trace of stream and child waits");
    asyncio::run(
        [&]() -> asyncio::Coro<> {
          auto server = co_await asyncio::start_server(reply_later, "127.0.0.1", 0);
          auto r = asyncio::create_task(read_line(server->sockets()[0].port), "reader");
          auto c = asyncio::create_task(run_child(), "child");
          line = co_await r;
          code = co_await c;
          server->close();
          co_await server->wait_closed();
        }(),
        asyncio::RunOptions{.debug = false, .virtual_time = false, .trace_path = path});
  }
  EXPECT_EQ(line, "hello\n");
  EXPECT_EQ(code, 0);
  Recorded r = Recorded::load(path);
  auto waits = [&](const char* lane) {
    std::vector<std::string> w = r.names(r.lane.at(lane), "X", "wait");
    w.erase(std::unique(w.begin(), w.end()), w.end());
    return w;
  };
  using testing::Contains;
  EXPECT_THAT(waits("reader read_line()"), Contains("stream read"));
  EXPECT_THAT(waits("child run_child()"), Contains("child process"));
  std::remove(path.c_str());
}

}  // namespace
