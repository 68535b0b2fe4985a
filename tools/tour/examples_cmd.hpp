#pragma once
// `asyncio-tour examples`: runs each example and shows its output, whether it
// matches the oracle, its time, and a timeline of its tasks.
#include <CLI/CLI.hpp>

namespace tour {

struct ExamplesOptions {
  std::vector<std::string> names;  // empty: all
  bool real_time = false;
  bool timelines = true;
};

void add_examples_command(CLI::App& app, std::function<void(const ExamplesOptions&)>& run);
/// Returns the number of examples that did not match.
int run_examples(const ExamplesOptions& options);

}  // namespace tour
