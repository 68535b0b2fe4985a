// `asyncio-tour io`: see io.hpp.
#include "io.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <utility>

#include "latency_server.hpp"

namespace fs = std::filesystem;

namespace tour {

namespace {

const char* const kWays[] = {"sync", "threads", "processes", "asyncio"};
const char* const kLabels[] = {"Sync", "Thread pool", "Process pool", "asyncio"};

/// Prints what is being measured on stderr, when it is a terminal.
void progress(const std::string& what) {
  if (::isatty(2)) {
    std::fprintf(stderr, "\r\033[K  measuring: %s ...", what.c_str());
    std::fflush(stderr);
  }
}

void progress_done() {
  if (::isatty(2)) std::fprintf(stderr, "\r\033[K");
}

/// Runs `cmd`, calling `on_line` for each line of its output; returns its output and status.
std::pair<std::string, int> run_lines(const std::string& cmd,
                                      const std::function<void(const std::string&)>& on_line) {
  std::string output;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return {"could not run " + cmd, -1};
  char line[1024];
  while (std::fgets(line, sizeof line, p)) {
    output += line;
    on_line(line);
  }
  return {output, ::pclose(p)};
}

/// "<Label> Duration: 1.23 seconds" and "asyncio N requests, L at once: 1.23 seconds".
std::optional<double> seconds_in(const std::string& line, const std::string& label) {
  if (!line.starts_with(label)) return std::nullopt;
  auto at = line.rfind(": ");
  if (at == std::string::npos || line.find("seconds") == std::string::npos) return std::nullopt;
  return std::stod(line.substr(at + 2));
}

/// Measures the four ways and the scale run with one program (C++ or CPython).
void measure_program(const std::string& program, const IoOptions& o, int port, bool python,
                     IoReport& report) {
  const std::string lang = python ? "CPython" : "C++";
  auto set = [&](IoRow& row, double s) { (python ? row.python_seconds : row.seconds) = s; };
  progress(lang + fmt::format(": {} downloads, {}", o.n, fmt::join(o.ways, ", ")));
  std::string cmd = fmt::format("{} {} {} {}", program, port, o.n, fmt::join(o.ways, " "));
  auto [out, status] = run_lines(cmd, [&](const std::string& line) {
    for (std::size_t i = 0; i < std::size(kWays); ++i) {
      if (auto s = seconds_in(line, std::string(kLabels[i]) + " Duration")) {
        set(report.rows[i], *s);
      }
    }
  });
  if (status != 0)
    report.errors.push_back(fmt::format("{} (exit status {}):\n{}", cmd, status, out));
  if (o.scale_n <= 0) return;
  progress(lang + fmt::format(": {} downloads, {} at once", o.scale_n, o.scale_limit));
  cmd = fmt::format("{} {} {} scale {}", program, port, o.scale_n, o.scale_limit);
  auto [scale_out, scale_status] = run_lines(cmd, [&](const std::string& line) {
    if (auto s = seconds_in(line, "asyncio ")) set(*report.scale, *s);
  });
  if (scale_status != 0)
    report.errors.push_back(fmt::format("{} (exit status {}):\n{}", cmd, scale_status, scale_out));
}

/// Why CPython cannot be measured ("" when it can).
std::string python_missing(const IoOptions& o) {
  if (!o.python) return "CPython not measured (--no-python)";
  if (!fs::exists(o.python_exe)) return o.python_exe + " does not exist: CPython not measured";
  std::string cmd = fmt::format("'{}' -c 'import requests, aiohttp' >/dev/null 2>&1", o.python_exe);
  if (std::system(cmd.c_str()) != 0)
    return o.python_exe +
           " lacks requests or aiohttp (Debian: python3-requests python3-aiohttp): "
           "CPython not measured";
  return {};
}

}  // namespace

void add_io_command(CLI::App& app, std::function<void(const IoOptions&)>& run) {
  auto opts = std::make_shared<IoOptions>();
  auto* cmd = app.add_subcommand(
      "io",
      "I/O-bound work (io.py): N downloads from a latency server one after another, in a thread "
      "pool, in a process pool and with asyncio, in C++ and in CPython; then the scale run");
  cmd->add_option("--n", opts->n, "Downloads per way")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));
  cmd->add_option("--latency", opts->latency, "Seconds the server waits before answering")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--scale", opts->scale_n, "Downloads of the scale run (0: none)")
      ->capture_default_str();
  cmd->add_option("--scale-limit", opts->scale_limit, "At most this many at once in the scale run")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));
  cmd->add_option("--ways", opts->ways, "The ways to measure")
      ->capture_default_str()
      ->check(CLI::IsMember({"sync", "threads", "processes", "asyncio"}));
  cmd->add_flag("!--no-python", opts->python, "Do not measure CPython");
  cmd->add_option("--python", opts->python_exe, "The Python interpreter to compare with")
      ->capture_default_str();
  cmd->callback([opts, &run] { run(*opts); });
}

IoReport measure_io(const IoOptions& o) {
  IoReport report;
  report.options = o;
  if (std::ifstream loadavg("/proc/loadavg"); loadavg) loadavg >> report.load_average;
  for (const char* label : kLabels) report.rows.push_back({label, {}, {}});
  if (o.scale_n > 0)
    report.scale = IoRow{fmt::format("asyncio, {} at once", o.scale_limit), {}, {}};
  LatencyServer server(o.latency);
  if (server.port() == 0) {
    report.errors.push_back("the latency server (build/examples/io_demo serve) did not start");
    return report;
  }
  const std::string exe = (fs::path(ASYNCIO_BUILD_DIR) / "examples" / "io_demo").string();
  measure_program("'" + exe + "'", o, server.port(), false, report);
  report.python_note = python_missing(o);
  if (report.python_note.empty()) {
    const std::string script =
        (fs::path(ASYNCIO_SOURCE_DIR) / "examples" / "python" / "io_demo.py").string();
    measure_program(fmt::format("'{}' '{}'", o.python_exe, script), o, server.port(), true, report);
  }
  progress_done();
  return report;
}

std::string format_io_report(const IoReport& r) {
  std::string out;
  auto line = [&]<class... T>(fmt::format_string<T...> format, T&&... args) {
    out += fmt::format(format, std::forward<T>(args)...);
    out += '\n';
  };
  auto cell = [](const std::optional<double>& s, const std::optional<double>& sync) {
    if (!s) return fmt::format("{:>8} {:>9}", "-", "-");
    if (!sync || *s <= 0) return fmt::format("{:>8.2f} {:>9}", *s, "-");
    return fmt::format("{:>8.2f} {:>8.1f}x", *s, *sync / *s);
  };
  const auto& o = r.options;
  line("== I/O-bound: {} downloads from a server that answers after {:.0f} ms (127.0.0.1) ==", o.n,
       o.latency * 1000);
  line("");
  const bool py = r.python_note.empty();
  line("{:<30} {:>18}{}", "", "C++", py ? fmt::format("   {:>18}", "CPython") : "");
  line("{:<30} {:>8} {:>9}{}", "way", "seconds", "speed-up",
       py ? fmt::format("   {:>8} {:>9}", "seconds", "speed-up") : "");
  const auto& sync = r.rows.front();
  for (const auto& row : r.rows)
    line("{:<30} {}{}", row.name, cell(row.seconds, sync.seconds),
         py ? "   " + cell(row.python_seconds, sync.python_seconds) : "");
  if (r.scale) {
    line("");
    line("Scale: {} downloads, at most {} at once", o.scale_n, o.scale_limit);
    line("{:<30} {:>8.2f}{}", r.scale->name, r.scale->seconds.value_or(0),
         py && r.scale->python_seconds ? fmt::format("{:>24.2f}", *r.scale->python_seconds) : "");
    line("(the floor is {} rounds of {:.0f} ms: {:.2f} s)",
         (o.scale_n + o.scale_limit - 1) / o.scale_limit, o.latency * 1000,
         ((o.scale_n + o.scale_limit - 1) / o.scale_limit) * o.latency);
  }
  line("");
  line("Waiting is not working: one after another, the program spends its time waiting for");
  line("the server. Threads and processes wait side by side, but there are only a few of them");
  line("(and processes cost start-up and copies). asyncio waits for every download at once on");
  line("one thread: the whole run takes about one latency, in C++ as in CPython; C++ spends");
  line("less CPU per request, which shows when thousands are in flight.");
  if (!py) line("({})", r.python_note);
  for (const auto& e : r.errors) line("ERROR: {}", e);
  if (r.load_average > 0.5)
    line("Note: the load average was {:.1f} before the run: other programs shared the cores.",
         r.load_average);
  return out;
}

int run_io(const IoOptions& options) {
  IoReport report = measure_io(options);
  fmt::print("{}\n", format_io_report(report));
  std::fflush(stdout);
  return report.ok() ? 0 : 1;
}

}  // namespace tour
