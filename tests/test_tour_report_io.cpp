// The report's io timelines (tools/tour/report_io.cpp), traced in this process: the
// latency server starts in its own process, the downloads run on a loop of this thread
// with asyncio::http, then in a thread pool through run_in_executor with libcurl's easy
// API; each run's trace is drawn. Real clock, ctest's timeout as the watchdog; no
// assertion on durations. (test_tour_report checks the report's drawing: overlap, lanes.)
// And write_report's list of the examples a full report does not run.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "report.hpp"
#include "support.hpp"
#include "xml_lite.hpp"

namespace {

using xml_lite::Element;

std::string read_whole(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<const Element*> lanes(const Element& svg, const std::string& kind) {
  return svg.find_all([&](const Element& e) { return e.tag == "g" && e.has_class("lane") && e.attr("data-kind") == kind; });
}

std::size_t rects(const Element& lane, const std::string& cls) {
  return lane.find_all([&](const Element& e) { return e.tag == "rect" && e.has_class(cls); }).size();
}

std::string lane_text(const Element& lane) {
  auto texts = lane.find_all([](const Element& e) { return e.tag == "text"; });
  return texts.empty() ? std::string{} : texts.front()->text;
}

TEST(TourReportIo, TracesTheDownloadsAsTasksOnTheLoopThenAsJobsOnPoolThreads) {
  tour::IoTimelines t = tour::trace_io_timelines(5, 0.02, 2);

  auto on_loop = xml_lite::parse(t.asyncio);
  auto tasks = lanes(*on_loop, "task");
  ASSERT_EQ(tasks.size(), 6u);  // the main task, then one per download
  EXPECT_NE(lane_text(*tasks[0]).find("all_with_asyncio()"), std::string::npos) << lane_text(*tasks[0]);
  for (std::size_t i = 1; i < tasks.size(); ++i) {
    EXPECT_NE(lane_text(*tasks[i]).find("download()"), std::string::npos) << lane_text(*tasks[i]);
    EXPECT_GE(rects(*tasks[i], "wait"), 1u) << "a download waits for its response";
  }
  EXPECT_TRUE(lanes(*on_loop, "thread").empty());

  auto in_pool = xml_lite::parse(t.threads);
  ASSERT_EQ(lanes(*in_pool, "task").size(), 1u);  // only the main task: the downloads are jobs
  auto threads = lanes(*in_pool, "thread");
  ASSERT_EQ(threads.size(), 2u);  // the pool's two threads
  std::size_t jobs = 0;
  for (auto* lane : threads) jobs += rects(*lane, "run");
  EXPECT_EQ(jobs, 5u);
  // Both pictures on one time axis (SvgOptions::span): the longer run sets it.
  const Element& a = *on_loop->children.at(0);
  const Element& b = *in_pool->children.at(0);
  EXPECT_EQ(a.attr("data-span"), b.attr("data-span"));
  EXPECT_GT(std::stod(a.attr("data-span")), 0.0);
  test::expect_no_frames();
}

TEST(TourReportIo, ANonPositiveCountIsRefused) {
  EXPECT_THROW_MSG(tour::trace_io_timelines(0, 0.02, 1), std::invalid_argument,
                   "trace_io_timelines: n must be at least 1, got 0");
  test::expect_no_frames();
}

// A report of every example names those it does not run, with why (the text tour does too).
TEST(TourReportWrite, NamesTheExamplesItDoesNotRun) {
  auto not_run = tour::examples_not_run_here();
  std::vector<std::string> names;
  for (const auto& [name, why] : not_run) {
    names.push_back(name);
    EXPECT_FALSE(why.empty()) << name;
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "io_demo"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "web_crawler"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "gather"), names.end());  // standalone: run

  tour::ReportData data;
  data.not_run = not_run;
  const std::string dir = std::string(ASYNCIO_BUILD_DIR) + "/report-write-test";
  auto doc = xml_lite::parse(read_whole(tour::write_report(dir, data)), true);
  auto items = doc->find_all([](const Element& e) { return e.tag == "li"; });
  ASSERT_EQ(items.size(), not_run.size());
  auto code = items[0]->find_all([](const Element& e) { return e.tag == "code"; });
  ASSERT_EQ(code.size(), 1u);
  EXPECT_EQ(code[0]->text, not_run[0].first);
  EXPECT_EQ(items[0]->text, ": " + not_run[0].second);
}

}  // namespace
