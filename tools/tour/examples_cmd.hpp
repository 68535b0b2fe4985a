#pragma once
// `asyncio-tour examples`: runs each example and shows its output, its verdict
// against its Python twin (verdict.hpp), its time, and a timeline of its tasks.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "verdict.hpp"

namespace tour {

struct ExamplesOptions {
  std::vector<std::string> names;  // empty: all
  bool real_time = false;
  bool timelines = true;
};

/// One example's run: what it printed (stdout and stderr apart), how it
/// exited, its verdict and its trace (the JSON text; empty when none).
struct ExampleRun {
  std::string name;
  bool built = true;
  std::string out, err;
  int status = 0;
  double seconds = 0;
  Verdict verdict;
  std::string trace_json;
};

/// Why example `name` cannot run on its own (it waits for a signal, needs mpirun or a
/// URL), or "" when it can; `asyncio-tour examples` and the report skip those.
std::string not_standalone(const std::string& name);
/// Every example with a program in examples/ (sorted), or `options.names`.
std::vector<std::string> example_names(const ExamplesOptions& options);
/// Runs one example with tracing on (virtual time unless options.real_time).
ExampleRun run_example(const std::string& name, const ExamplesOptions& options);

void add_examples_command(CLI::App& app, std::function<void(const ExamplesOptions&)>& run);
/// Returns the number of examples whose output differs from their twin's (or not built);
/// with `runs`, hands the runs over (the tour's report shows them too).
int run_examples(const ExamplesOptions& options, std::vector<ExampleRun>* runs = nullptr);

}  // namespace tour
