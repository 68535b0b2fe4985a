// `asyncio-tour io` (tools/tour/io.hpp), small: the latency server starts in its own
// process, every way runs and is measured, the table shows them. No assertion on the
// figures themselves (they are timings); a failed download makes a run exit non-zero,
// which the report lists as an error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "io.hpp"

using testing::HasSubstr;

namespace {

std::string errors_of(const tour::IoReport& r) {
  std::string out;
  for (const auto& e : r.errors) out += e + "\n";
  return out;
}

TEST(TourIo, MeasuresTheFourWaysAndTheScaleRunInCpp) {
  tour::IoOptions o;
  o.n = 4;
  o.latency = 0.05;
  o.scale_n = 40;
  o.scale_limit = 10;
  o.python = false;
  tour::IoReport r = tour::measure_io(o);
  EXPECT_TRUE(r.ok()) << errors_of(r);
  ASSERT_EQ(r.rows.size(), 4u);
  const char* names[] = {"Sync", "Thread pool", "Process pool", "asyncio"};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r.rows[i].name, names[i]);
    EXPECT_TRUE(r.rows[i].seconds.has_value()) << names[i];
    EXPECT_FALSE(r.rows[i].python_seconds.has_value()) << names[i];
  }
  ASSERT_TRUE(r.scale.has_value());
  EXPECT_TRUE(r.scale->seconds.has_value());
  EXPECT_EQ(r.python_note, "CPython not measured (--no-python)");
  std::string text = tour::format_io_report(r);
  EXPECT_THAT(text, HasSubstr("== I/O-bound: 4 downloads from a server that answers after 50 ms"));
  EXPECT_THAT(text, HasSubstr("Scale: 40 downloads, at most 10 at once"));
  EXPECT_THAT(text, HasSubstr("(the floor is 4 rounds of 50 ms: 0.20 s)"));
  EXPECT_THAT(text, testing::Not(HasSubstr("ERROR")));
}

// The report's short form (--io-ways): the slow rows are left out, shown as "-".
TEST(TourIo, MeasuresOnlyTheWaysAskedFor) {
  tour::IoOptions o;
  o.n = 3;
  o.latency = 0.02;
  o.ways = {"threads", "asyncio"};
  o.scale_n = 0;
  o.python = false;
  tour::IoReport r = tour::measure_io(o);
  EXPECT_TRUE(r.ok()) << errors_of(r);
  ASSERT_EQ(r.rows.size(), 4u);
  EXPECT_FALSE(r.rows[0].seconds.has_value());  // Sync
  EXPECT_TRUE(r.rows[1].seconds.has_value());   // Thread pool
  EXPECT_FALSE(r.rows[2].seconds.has_value());  // Process pool
  EXPECT_TRUE(r.rows[3].seconds.has_value());   // asyncio
  EXPECT_THAT(tour::format_io_report(r), testing::ContainsRegex("Sync +- +-"));
}

TEST(TourIo, AMissingInterpreterIsNamedNotMeasured) {
  tour::IoOptions o;
  o.n = 2;
  o.latency = 0.01;
  o.scale_n = 0;
  o.python_exe = "/nonexistent/python3";
  tour::IoReport r = tour::measure_io(o);
  EXPECT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(r.python_note, "/nonexistent/python3 does not exist: CPython not measured");
  EXPECT_FALSE(r.scale.has_value());
  EXPECT_FALSE(r.rows[3].python_seconds.has_value());
}

TEST(TourIo, CPythonRunsTheSameWaysAgainstTheSameServer) {
  if (std::system("/usr/bin/python3 -c 'import requests, aiohttp' >/dev/null 2>&1") != 0)
    GTEST_SKIP()
        << "/usr/bin/python3 lacks requests or aiohttp (tools/install-deps.sh installs them)";
  tour::IoOptions o;
  o.n = 4;
  o.latency = 0.05;
  o.scale_n = 20;
  o.scale_limit = 10;
  tour::IoReport r = tour::measure_io(o);
  EXPECT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(r.python_note, "");
  for (const auto& row : r.rows) EXPECT_TRUE(row.python_seconds.has_value()) << row.name;
  EXPECT_TRUE(r.scale->python_seconds.has_value());
  EXPECT_THAT(tour::format_io_report(r), HasSubstr("CPython"));
}

}  // namespace
