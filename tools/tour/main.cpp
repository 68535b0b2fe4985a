// asyncio-tour: runs the demonstrations of the talk and shows what ran where
// and when. With no subcommand, it runs all of them and ends with where its
// report (build/tour-report/index.html) is.
#include <asyncio/process_pool.hpp>
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cpu.hpp"
#include "examples_cmd.hpp"
#include "io.hpp"
#include "report.hpp"

int main(int argc, char** argv) {
  asyncio::process_pool_worker_main(argc, argv);  // the cpu tour's process pools' workers serve here
  CLI::App app{"asyncio-tour: asyncio's model in C++20, demonstrated"};
  int status = 0;
  std::function<void(const tour::ExamplesOptions&)> examples = [&](const tour::ExamplesOptions& o) {
    status = tour::run_examples(o) == 0 ? 0 : 1;
  };
  tour::add_examples_command(app, examples);
  std::function<void(const tour::CpuOptions&)> cpu = [&](const tour::CpuOptions& o) { status |= tour::run_cpu(o); };
  tour::add_cpu_command(app, cpu);
  std::function<void(const tour::IoOptions&)> io = [&](const tour::IoOptions& o) { status |= tour::run_io(o); };
  tour::add_io_command(app, io);
  std::function<void(const tour::ReportOptions&)> report = [&](const tour::ReportOptions& o) {
    status |= tour::run_report(o);
  };
  tour::add_report_command(app, report);
  CLI11_PARSE(app, argc, argv);
  if (app.get_subcommands().empty()) {
    fmt::print("asyncio-tour: every demonstration in turn (see --help for each one)\n\n");
    tour::ReportData data;
    status |= tour::run_examples(tour::ExamplesOptions{}, &data.examples) == 0 ? 0 : 1;
    data.not_run = tour::examples_not_run_here();
    tour::CpuReport cpu_report = tour::measure_cpu(tour::CpuOptions{});
    fmt::print("{}\n", tour::format_cpu_report(cpu_report));
    if (!cpu_report.results_equal) status |= 1;
    data.cpu = std::move(cpu_report);
    tour::IoReport io_report = tour::measure_io(tour::IoOptions{});
    fmt::print("{}\n", tour::format_io_report(io_report));
    if (!io_report.ok()) status |= 1;
    data.io = std::move(io_report);
    tour::ReportOptions defaults;
    data.cpu_timelines = tour::trace_cpu_timelines(defaults.timeline_n, defaults.timeline_jobs, 0);
    data.io_timelines = tour::trace_io_timelines(defaults.io_timeline_n, data.io->options.latency, 0);
    std::string path = tour::write_report(std::string(ASYNCIO_BUILD_DIR) + "/tour-report", data);
    fmt::print("\nThe report, with every timeline: {}\n", path);
  }
  return status;
}
