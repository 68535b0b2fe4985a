#include "examples_cmd.hpp"

#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "timeline.hpp"

namespace fs = std::filesystem;

namespace tour {
namespace {

std::string read_file(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

struct Run {
  std::string out;
  int status = 0;
  double seconds = 0;
};

Run run_program(const std::string& cmd) {
  auto t0 = std::chrono::steady_clock::now();
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {"", 127, 0};
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int raw = pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += prefix + line + "\n";
  return out;
}

}  // namespace

void add_examples_command(CLI::App& app, std::function<void(const ExamplesOptions&)>& run) {
  auto opts = std::make_shared<ExamplesOptions>();
  auto* cmd = app.add_subcommand("examples", "Run each example, show its output, timing and task timeline");
  cmd->add_option("names", opts->names, "Examples to run (default: all)");
  cmd->add_flag("--real", opts->real_time, "Run in real time (default: virtual time, instant)");
  cmd->add_flag("!--no-timeline", opts->timelines, "Do not draw task timelines");
  cmd->callback([opts, &run] { run(*opts); });
}

int run_examples(const ExamplesOptions& options) {
  fs::path expected_dir = fs::path(ASYNCIO_SOURCE_DIR) / "examples" / "expected";
  fs::path bin_dir = fs::path(ASYNCIO_BUILD_DIR) / "examples";
  std::vector<std::string> names = options.names;
  if (names.empty()) {
    for (const auto& e : fs::directory_iterator(expected_dir))
      if (e.path().extension() == ".out") names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
  }
  fmt::print("== Examples: the talk's programs in C++ ({} time) ==\n\n", options.real_time ? "real" : "virtual");
  struct Row {
    std::string name;
    bool ok;
    double seconds;
  };
  std::vector<Row> rows;
  int failures = 0;
  for (const auto& name : names) {
    fs::path exe = bin_dir / name;
    if (!fs::exists(exe)) {
      fmt::print("-- {}: not built ({})\n\n", name, exe.string());
      ++failures;
      continue;
    }
    std::string trace = (fs::temp_directory_path() / ("asyncio-tour-" + name + "-" + std::to_string(getpid()) + ".json")).string();
    std::string env = std::string(options.real_time ? "" : "ASYNCIO_VIRTUAL_TIME=1 ") + "ASYNCIO_TRACE='" + trace + "' ";
    Run r = run_program(env + "'" + exe.string() + "' 2>&1");
    std::string normalized = std::regex_replace(r.out, std::regex("\\b\\d\\d:\\d\\d:\\d\\d\\b"), "HH:MM:SS");
    std::string expected = read_file(expected_dir / (name + ".out"));
    int want_status = 0;
    if (fs::exists(expected_dir / (name + ".status"))) want_status = std::stoi(read_file(expected_dir / (name + ".status")));
    // stdout and stderr are merged here for display; the test suite checks them apart.
    bool ok = r.status == want_status && normalized.find(expected) != std::string::npos;
    if (!ok && r.status == want_status) {
      // stderr lines may interleave: compare the stdout lines in order.
      std::istringstream got(normalized), want(expected);
      std::string g, w;
      ok = true;
      while (std::getline(want, w)) {
        bool found = false;
        while (std::getline(got, g))
          if (g == w) {
            found = true;
            break;
          }
        if (!found) {
          ok = false;
          break;
        }
      }
    }
    fmt::print("-- {} ({:.2f} s, exit {}) {}\n", name, r.seconds, r.status, ok ? "matches the Python oracle" : "DIFFERS from the oracle");
    fmt::print("{}", indent(r.out, "   | "));
    if (options.timelines) {
      std::string tl = render_timeline(trace);
      if (!tl.empty()) fmt::print("\n{}", tl);
    }
    fs::remove(trace);
    fmt::print("\n");
    rows.push_back({name, ok, r.seconds});
    if (!ok) ++failures;
  }
  fmt::print("{:<24} {:>9}  {}\n", "example", "seconds", "same output as Python");
  for (const auto& row : rows) fmt::print("{:<24} {:>9.2f}  {}\n", row.name, row.seconds, row.ok ? "yes" : "NO");
  fmt::print("\n");
  return failures;
}

}  // namespace tour
