#pragma once
// `asyncio-tour report --out DIR`: everything the tour shows as DIR/index.html,
// self-contained (inline SVG, CSS and script; no network), light on a phone:
// each example with its output, its verdict against its Python twin and its
// timeline; the cpu table and the timelines that make concurrency versus
// parallelism visible (one loop thread interleaving, pool threads side by
// side, worker processes). The timelines of one table (cpu, io) share one time
// axis (timeline::SvgOptions::span), so that their lengths compare at a glance. Each timeline is also written as DIR/NAME.svg,
// the cpu table as DIR/cpu.md, and the tutorial's chapters as
// DIR/tutorial/N_*.html with those figures in them (chapters.hpp), linked from
// the page's nav.
//
// The page's script sets `data-report-ready="<number of timelines>"` on <html>
// once it has laid the page out: the headless-browser test reads that flag.
#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cpu.hpp"
#include "examples_cmd.hpp"
#include "io.hpp"

namespace tour {

struct ReportOptions {
  std::string out_dir;
  std::vector<std::string> examples;  // empty: all
  bool cpu = true;                    // the cpu table (sizes below) and its timelines
  CpuOptions cpu_options{.n = 4000, .count = 60, .threads = 0, .processes = 0, .python = true,
                         .python_exe = "python3"};
  int timeline_n = 20000;  // factorial size of each job in the cpu timelines
  int timeline_jobs = 8;   // jobs in each cpu timeline
  bool io = true;          // the io table (the real thing by default) and its timelines
  IoOptions io_options;
  int io_timeline_n = 100;  // downloads in each io timeline
};

/// The three cpu timelines, as SVG documents.
struct CpuTimelines {
  std::string loop;       // asyncio alone: tasks interleave on the loop's thread
  std::string threads;    // run_in_executor with a thread pool: threads side by side
  std::string processes;  // run_in_executor with a process pool: worker processes
};
CpuTimelines trace_cpu_timelines(int n, int jobs, std::size_t workers);

/// The two io timelines, as SVG documents.
struct IoTimelines {
  std::string asyncio;  // gather over one ClientSession: every download waits at once, one thread
  std::string threads;  // run_in_executor with a thread pool: threads side by side, one download each
};
/// Traces `n` downloads from a latency server (`latency` seconds) both ways; `threads` 0 is
/// Python's default pool size. Throws std::invalid_argument if `n` < 1, std::runtime_error
/// if the server does not start or a download fails.
IoTimelines trace_io_timelines(int n, double latency, std::size_t threads);

/// What the report shows; the tour fills it once and prints it too.
struct ReportData {
  std::vector<ExampleRun> examples;
  std::optional<CpuReport> cpu;
  std::optional<CpuTimelines> cpu_timelines;
  std::optional<IoReport> io;
  std::optional<IoTimelines> io_timelines;
  /// Examples the report does not run, each with why (examples_cmd.hpp's not_standalone).
  std::vector<std::pair<std::string, std::string>> not_run;
};

/// The examples that only run with a set-up of their own (a signal, mpirun, a site),
/// each with why: what a report of every example names instead of running.
std::vector<std::pair<std::string, std::string>> examples_not_run_here();

/// Writes DIR/index.html and the SVGs; returns the path of index.html.
std::string write_report(const std::string& dir, const ReportData& data);

void add_report_command(CLI::App& app, std::function<void(const ReportOptions&)>& run);
/// Runs everything, writes the report, prints its path; returns 0, or 1 when an
/// example differs from its twin.
int run_report(const ReportOptions& options);

}  // namespace tour
