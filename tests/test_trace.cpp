// Tracing: one lane per task, one slice per step (trace.hpp).
#include "asyncio/trace.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "asyncio/runners.hpp"

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
    if (e["ph"] != "X") continue;
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

}  // namespace
