#include "examples_cmd.hpp"

#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "timeline.hpp"

namespace fs = std::filesystem;

namespace tour {
namespace {

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += prefix + line + "\n";
  return out;
}

fs::path examples_dir() { return fs::path(ASYNCIO_SOURCE_DIR) / "examples"; }

}  // namespace

std::string not_standalone(const std::string& name) {
  if (fs::exists(examples_dir() / "expected" / (name + ".signal")))
    return "waits for a signal (tests/test_examples.cpp sends it)";
  if (name.ends_with("_mpi")) return "runs under mpirun (asyncio-tour cpu --mpi)";
  if (name == "web_crawler") return "needs a site to crawl: build/examples/web_crawler URL... (tests/test_web_crawler.cpp)";
  if (name == "io_demo") return "prints measured durations (20 s of downloads): asyncio-tour io and the report's I/O-bound section run it";
  return {};
}

std::vector<std::string> example_names(const ExamplesOptions& options) {
  std::vector<std::string> names = options.names;
  if (names.empty()) {
    for (const auto& e : fs::directory_iterator(examples_dir()))
      if (e.path().extension() == ".cpp") names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
  }
  return names;
}

ExampleRun run_example(const std::string& name, const ExamplesOptions& options) {
  ExampleRun r;
  r.name = name;
  fs::path exe = fs::path(ASYNCIO_BUILD_DIR) / "examples" / name;
  if (!fs::exists(exe)) {
    r.built = false;
    r.verdict.kind = Verdict::Kind::differs;
    r.verdict.diff = "not built: " + exe.string() + "\n";
    return r;
  }
  std::string stem = (fs::temp_directory_path() / ("asyncio-tour-" + name + "-" + std::to_string(getpid()))).string();
  std::string trace = stem + ".json", err = stem + ".stderr";
  std::string cmd = std::string(options.real_time ? "" : "ASYNCIO_VIRTUAL_TIME=1 ") + "ASYNCIO_TRACE='" + trace +
                    "' '" + exe.string() + "' 2>'" + err + "'";
  auto t0 = std::chrono::steady_clock::now();
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int raw = pclose(p);
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  } else {
    r.status = 127;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.err = read_text(err);
  r.trace_json = read_text(trace);
  fs::remove(err);
  fs::remove(trace);
  r.verdict = judge_example(examples_dir(), name, r.out, r.status);
  return r;
}

void add_examples_command(CLI::App& app, std::function<void(const ExamplesOptions&)>& run) {
  auto opts = std::make_shared<ExamplesOptions>();
  auto* cmd = app.add_subcommand("examples", "Run each example, show its output, timing and task timeline");
  cmd->add_option("names", opts->names, "Examples to run (default: all)");
  cmd->add_flag("--real", opts->real_time, "Run in real time (default: virtual time, instant)");
  cmd->add_flag("!--no-timeline", opts->timelines, "Do not draw task timelines");
  cmd->callback([opts, &run] { run(*opts); });
}

int run_examples(const ExamplesOptions& options, std::vector<ExampleRun>* out) {
  fmt::print("== Examples: the talk's programs in C++ ({} time) ==\n\n", options.real_time ? "real" : "virtual");
  std::vector<ExampleRun> runs;
  int failures = 0;
  for (const auto& name : example_names(options)) {
    if (std::string why = not_standalone(name); !why.empty() && options.names.empty()) {
      fmt::print("-- {}: not run here, {}\n\n", name, why);
      continue;
    }
    ExampleRun r = run_example(name, options);
    if (!r.built) {
      fmt::print("-- {}: {}\n", name, r.verdict.diff);
      ++failures;
      runs.push_back(std::move(r));
      continue;
    }
    fmt::print("-- {} ({:.2f} s, exit {}): {}\n", name, r.seconds, r.status, r.verdict.summary());
    fmt::print("{}", indent(r.out, "   | "));
    if (!r.err.empty()) fmt::print("   stderr:\n{}", indent(r.err, "   ! "));
    if (r.verdict.kind == Verdict::Kind::differs)
      fmt::print("   diff (- Python's output, + ours):\n{}", indent(r.verdict.diff, "   "));
    if (options.timelines && !r.trace_json.empty()) {
      std::string tl = render_timeline_text(r.trace_json);
      if (!tl.empty()) fmt::print("\n{}", tl);
    }
    fmt::print("\n");
    if (!r.verdict.ok()) ++failures;
    runs.push_back(std::move(r));
  }
  fmt::print("{:<24} {:>9}  {}\n", "example", "seconds", "verdict");
  for (const auto& r : runs) fmt::print("{:<24} {:>9.2f}  {}\n", r.name, r.seconds, r.built ? r.verdict.summary() : "not built");
  fmt::print("\n");
  if (out != nullptr) *out = std::move(runs);
  return failures;
}

}  // namespace tour
