// asyncio-tour: runs the demonstrations of the talk and shows what ran where
// and when. With no subcommand, it runs all of them.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cpu.hpp"
#include "examples_cmd.hpp"

int main(int argc, char** argv) {
  CLI::App app{"asyncio-tour: asyncio's model in C++20, demonstrated"};
  int status = 0;
  std::function<void(const tour::ExamplesOptions&)> examples = [&](const tour::ExamplesOptions& o) {
    status = tour::run_examples(o) == 0 ? 0 : 1;
  };
  tour::add_examples_command(app, examples);
  std::function<void(const tour::CpuOptions&)> cpu = [&](const tour::CpuOptions& o) { status |= tour::run_cpu(o); };
  tour::add_cpu_command(app, cpu);
  CLI11_PARSE(app, argc, argv);
  if (app.get_subcommands().empty()) {
    fmt::print("asyncio-tour: every demonstration in turn (see --help for each one)\n\n");
    status |= tour::run_examples(tour::ExamplesOptions{}) == 0 ? 0 : 1;
    status |= tour::run_cpu(tour::CpuOptions{});
  }
  return status;
}
