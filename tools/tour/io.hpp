#pragma once
// `asyncio-tour io`: the seed chapter's I/O-bound demonstration (io.py) as a table.
// A latency server (build/examples/io_demo serve: GET /page/N answers after 100 ms) runs in
// its own process; N downloads from it run four ways -- one after another, a thread pool, a
// process pool, asyncio (gather over one ClientSession) -- in C++ (build/examples/io_demo) and,
// when /usr/bin/python3 has requests and aiohttp, in CPython (examples/python/io_demo.py),
// against the same server. Then the scale run: many downloads, a bounded number at once.
#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tour {

struct IoOptions {
  int n = 100;             // downloads per way
  /// The ways to measure (the table keeps all four rows; the others show "-").
  std::vector<std::string> ways = {"sync", "threads", "processes", "asyncio"};
  double latency = 0.1;    // seconds the server waits before each answer
  int scale_n = 10000;     // the scale run's downloads (0: no scale run)
  int scale_limit = 2000;  // ... at most this many at once (a Semaphore)
  bool python = true;      // also measure CPython, when it has requests and aiohttp
  std::string python_exe = "/usr/bin/python3";
};

/// One line of the table: a way, in C++ and (when measured) in CPython.
struct IoRow {
  std::string name;
  std::optional<double> seconds;
  std::optional<double> python_seconds;
};

struct IoReport {
  IoOptions options;
  double load_average = 0;          // 1-minute load average before the run
  std::vector<IoRow> rows;          // Sync, Thread pool, Process pool, asyncio
  std::optional<IoRow> scale;       // the scale run
  std::string python_note;          // why CPython was not measured, or what went wrong
  std::vector<std::string> errors;  // runs that failed (their output)
  bool ok() const { return errors.empty(); }
};

/// Adds the `io` subcommand; `run` is called with its options when it is chosen.
void add_io_command(CLI::App& app, std::function<void(const IoOptions&)>& run);
/// Starts the latency server, measures every row (progress on stderr when it is a terminal).
IoReport measure_io(const IoOptions& options);
/// The table and what it shows, as text.
std::string format_io_report(const IoReport& report);
/// measure_io + print; returns 0, or 1 if a run failed.
int run_io(const IoOptions& options);

}  // namespace tour
