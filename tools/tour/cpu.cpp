// `asyncio-tour cpu`: see cpu.hpp.
#include "cpu.hpp"

#include <asyncio/executors.hpp>
#include <asyncio/serialize_gmp.hpp>
#include <asyncio/runners.hpp>
#include <asyncio/tasks_combinators.hpp>
#include <fmt/core.h>
#include <gmpxx.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace tour {

mpz_class slow_factorial(int n) {
  mpz_class f = 1;
  for (int i = 1; i < n; ++i) f = f * i;
  return f;
}
ASYNCIO_REGISTER_PROCESS_FUNCTION_AS("tour::slow_factorial", slow_factorial);

namespace {

// The same work in CPython, stage by stage; one line per stage: `<stage> <seconds> <bits>`.
constexpr const char* kPythonScript = R"PY(
import asyncio, sys, time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

def factorial(n):
    f = 1
    for i in range(1, n):
        f = f * i
    return f

async def gather_in(pool, numbers):
    loop = asyncio.get_running_loop()
    return await asyncio.gather(*(loop.run_in_executor(pool, factorial, n) for n in numbers))

def main():
    n, count, threads, processes = (int(a) for a in sys.argv[1:5])
    numbers = [n] * count
    print("version", sys.version.split()[0], 0, flush=True)
    def done(stage, t, results):
        print(stage, time.perf_counter() - t, results[0].bit_length(), flush=True)
    t = time.perf_counter()
    done("sync", t, [factorial(x) for x in numbers])
    t = time.perf_counter()
    with ThreadPoolExecutor(threads or None) as pool:
        done("threads", t, list(pool.map(factorial, numbers)))
    t = time.perf_counter()
    with ProcessPoolExecutor(processes or None) as pool:
        done("processes", t, list(pool.map(factorial, numbers)))
    t = time.perf_counter()
    done("asyncio_default", t, asyncio.run(gather_in(None, numbers)))
    t = time.perf_counter()
    with ProcessPoolExecutor(processes or None) as pool:
        done("asyncio_processes", t, asyncio.run(gather_in(pool, numbers)))

if __name__ == "__main__":
    main()
)PY";

/// A progress line on stderr, redrawn every 100 ms while a stage runs (only on a terminal).
class Progress {
 public:
  Progress() : enabled_(::isatty(STDERR_FILENO) == 1) {
    if (enabled_) ticker_ = std::thread([this] { tick(); });
  }
  ~Progress() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (ticker_.joinable()) ticker_.join();
    if (enabled_) std::fputs("\r\033[K", stderr);
  }
  /// A new stage; `total` 0 when the count is unknown.
  void stage(std::string label, int total) {
    std::lock_guard lock(mutex_);
    label_ = std::move(label);
    total_ = total;
    done_ = 0;
    start_ = std::chrono::steady_clock::now();
  }
  void advance() { ++done_; }

 private:
  void tick() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      if (!label_.empty()) {
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        std::string count = total_ > 0 ? fmt::format("{}/{}", done_.load(), total_) : "";
        fmt::print(stderr, "\r\033[K  {:<34} {:>9} {:6.1f} s", label_, count, elapsed);
        std::fflush(stderr);
      }
      wake_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }

  bool enabled_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread ticker_;
  bool stop_ = false;
  std::string label_;
  int total_ = 0;
  std::atomic<int> done_ = 0;
  std::chrono::steady_clock::time_point start_;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

template <class Results>
std::vector<mpz_class> collect(Results&& results, Progress& progress) {
  std::vector<mpz_class> out;
  for (auto& r : results) {
    out.push_back(std::move(r));
    progress.advance();
  }
  return out;
}

/// asyncio + executor, as the CPython script does it: a run_in_executor future per call,
/// gathered.
template <class Executor>
asyncio::Coro<std::vector<mpz_class>> gather_in(Executor* pool, std::vector<int> numbers,
                                                Progress* progress) {
  auto& loop = asyncio::get_running_loop();
  std::vector<asyncio::Future<mpz_class>> futures;
  for (int n : numbers) {
    if constexpr (std::is_null_pointer_v<Executor>) {
      futures.push_back(loop.run_in_executor(nullptr, slow_factorial, n));
    } else {
      futures.push_back(loop.run_in_executor(*pool, slow_factorial, n));
    }
    futures.back().add_done_callback([progress] { progress->advance(); });
  }
  co_return co_await asyncio::gather(std::move(futures));
}

std::string find_on_path(const std::string& exe) {
  if (exe.find('/') != std::string::npos) return ::access(exe.c_str(), X_OK) == 0 ? exe : "";
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    auto candidate = fs::path(dir.empty() ? "." : dir) / exe;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

/// Runs the CPython script; fills the rows' python_seconds.
void measure_python(const CpuOptions& o, std::size_t threads, std::size_t processes,
                    CpuReport& report, Progress& progress) {
  const std::string python = find_on_path(o.python_exe);
  if (python.empty()) {
    report.python_note = o.python_exe + " is not on PATH: CPython not measured";
    return;
  }
  auto dir = fs::temp_directory_path();
  auto script = dir / fmt::format("asyncio-tour-cpu-{}.py", ::getpid());
  auto errors = dir / fmt::format("asyncio-tour-cpu-{}.err", ::getpid());
  std::ofstream(script) << kPythonScript;
  std::string cmd = fmt::format("'{}' '{}' {} {} {} {} 2>'{}'", python, script.string(), o.n, o.count,
                                threads, processes, errors.string());
  const std::pair<const char*, std::size_t> stages[] = {
      {"sync", 0}, {"threads", 1}, {"processes", 2}, {"asyncio_default", 3}, {"asyncio_processes", 4}};
  const char* labels[] = {"CPython: one thread", "CPython: thread pool", "CPython: process pool",
                          "CPython: asyncio + default executor", "CPython: asyncio + process pool"};
  progress.stage(labels[0], 0);
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    report.python_note = "could not start " + python;
    return;
  }
  char line[512];
  std::size_t measured = 0;
  while (std::fgets(line, sizeof line, p)) {
    std::istringstream in(line);
    std::string stage, value;
    std::size_t bits = 0;
    in >> stage >> value >> bits;
    if (stage == "version") {
      report.python_version = value;
      continue;
    }
    for (auto [name, row] : stages) {
      if (stage != name) continue;
      report.rows[row].python_seconds = std::stod(value);
      if (bits != report.bits) report.results_equal = false;
      ++measured;
      if (row + 1 < std::size(labels)) progress.stage(labels[row + 1], 0);
    }
  }
  int status = ::pclose(p);
  if (status != 0 || measured != std::size(stages)) {
    std::ifstream err(errors);
    std::stringstream text;
    text << err.rdbuf();
    report.python_note = fmt::format("CPython stopped early (exit status {}):\n{}", status, text.str());
    report.python_version.clear();
  }
  fs::remove(script);
  fs::remove(errors);
}

/// `--mpi`: the same calls through MpiPoolExecutor, in examples/factorial_mpi started by
/// mpirun (rank 0 plus one worker rank per process-pool worker). Its own timing of the pool
/// (MPI start-up excluded) becomes a row; its sum must match ours.
void measure_mpi(const CpuOptions& o, std::size_t processes, const std::vector<mpz_class>& r0,
                 CpuReport& report, Progress& progress) {
  const std::string mpirun = find_on_path("mpirun");
  const auto exe = fs::path(ASYNCIO_BUILD_DIR) / "examples" / "factorial_mpi";
  if (mpirun.empty() || !fs::exists(exe)) {
    report.mpi_note = mpirun.empty() ? "mpirun is not on PATH: MPI not measured"
                                     : exe.string() + " was not built: MPI not measured";
    return;
  }
  progress.stage("C++: MPI pool (mpirun)", 0);
  // As root, mpirun wants to be told; --oversubscribe: more ranks than cores is fine here.
  std::string cmd = fmt::format("'{}' {} --oversubscribe -np {} '{}' {} {} 1 mpi-only 2>&1", mpirun,
                                ::geteuid() == 0 ? "--allow-run-as-root" : "", processes + 1,
                                exe.string(), o.n, o.count);
  FILE* p = ::popen(cmd.c_str(), "r");
  std::optional<double> seconds;
  std::string checksum, output;
  char line[512];
  while (p && std::fgets(line, sizeof line, p)) {
    output += line;
    std::string text(line);
    if (auto at = text.find("Duration: "); text.starts_with("MPI pool") && at != std::string::npos)
      seconds = std::stod(text.substr(at + 10));
    if (auto at = text.find("mod 1000000007 = "); at != std::string::npos)
      checksum = text.substr(at + 17, text.find_last_not_of(" \n") - at - 16);
  }
  const int status = p ? ::pclose(p) : -1;
  if (status != 0 || !seconds) {
    report.mpi_note = fmt::format("mpirun failed (exit status {}):\n{}", status, output);
    return;
  }
  mpz_class total = 0;
  for (const auto& x : r0) total += x;
  if (mpz_class(total % 1'000'000'007).get_str() != checksum) report.results_equal = false;
  report.rows.push_back({fmt::format("MPI pool, {} ranks (excl. start-up)", processes), *seconds, {}});
}

}  // namespace

void add_cpu_command(CLI::App& app, std::function<void(const CpuOptions&)>& run) {
  auto opts = std::make_shared<CpuOptions>();
  auto* cmd = app.add_subcommand(
      "cpu", "CPU-bound work (factorial.py): one thread vs thread pool vs process pool vs asyncio + "
             "executor, in C++ and in CPython");
  cmd->add_option("--n", opts->n, "Compute factorial(n), the product 1..n-1")
      ->capture_default_str()
      ->check(CLI::Range(2, 1'000'000));
  cmd->add_option("--count", opts->count, "How many times")->capture_default_str()->check(CLI::Range(1, 100'000));
  cmd->add_option("--threads", opts->threads, "Thread pool size (0: min(32, cores + 4))")->capture_default_str();
  cmd->add_option("--processes", opts->processes, "Process pool size (0: the number of cores)")
      ->capture_default_str();
  cmd->add_flag("!--no-python", opts->python, "Do not measure CPython");
  cmd->add_option("--python", opts->python_exe, "The Python interpreter to compare with")->capture_default_str();
  cmd->add_flag("--mpi", opts->mpi, "Also run the calls on MPI ranks (examples/factorial_mpi under mpirun)");
  cmd->callback([opts, &run] { run(*opts); });
}

CpuReport measure_cpu(const CpuOptions& o) {
  CpuReport report;
  report.options = o;
  report.cores = std::max(1u, std::thread::hardware_concurrency());
  if (std::ifstream loadavg("/proc/loadavg"); loadavg) loadavg >> report.load_average;
  const std::size_t threads = o.threads ? o.threads : asyncio::ThreadPoolExecutor::default_max_workers();
  const std::size_t processes = o.processes ? o.processes : report.cores;
  const std::vector<int> numbers(static_cast<std::size_t>(o.count), o.n);
  Progress progress;

  progress.stage("C++: one thread", o.count);
  auto t = std::chrono::steady_clock::now();
  std::vector<mpz_class> r0;
  for (int n : numbers) {
    r0.push_back(slow_factorial(n));
    progress.advance();
  }
  report.rows.push_back({"one thread (sync)", seconds_since(t), {}});
  report.bits = mpz_sizeinbase(r0.front().get_mpz_t(), 2);

  auto check = [&](const std::vector<mpz_class>& r) {
    if (r != r0) report.results_equal = false;
  };

  progress.stage("C++: thread pool", o.count);
  t = std::chrono::steady_clock::now();
  {
    asyncio::ThreadPoolExecutor pool(threads);
    check(collect(pool.map(slow_factorial, numbers), progress));
  }
  report.rows.push_back({fmt::format("thread pool, {} threads", threads), seconds_since(t), {}});

  progress.stage("C++: process pool", o.count);
  t = std::chrono::steady_clock::now();
  {
    asyncio::ProcessPoolExecutor pool(processes);
    check(collect(pool.map(slow_factorial, numbers), progress));
  }
  report.rows.push_back({fmt::format("process pool, {} processes", processes), seconds_since(t), {}});

  progress.stage("C++: asyncio + default executor", o.count);
  t = std::chrono::steady_clock::now();
  check(asyncio::run(gather_in<std::nullptr_t>(nullptr, numbers, &progress)));
  report.rows.push_back({fmt::format("asyncio + default executor ({} thr.)",
                                     asyncio::ThreadPoolExecutor::default_max_workers()),
                         seconds_since(t),
                         {}});

  progress.stage("C++: asyncio + process pool", o.count);
  t = std::chrono::steady_clock::now();
  {
    asyncio::ProcessPoolExecutor pool(processes);
    check(asyncio::run(gather_in(&pool, numbers, &progress)));
  }
  report.rows.push_back({fmt::format("asyncio + process pool, {} proc.", processes), seconds_since(t), {}});

  if (o.mpi) measure_mpi(o, processes, r0, report, progress);

  if (o.python) {
    measure_python(o, o.threads, o.processes, report, progress);
  } else {
    report.python_note = "CPython not measured (--no-python)";
  }
  return report;
}

std::string format_cpu_report(const CpuReport& r) {
  std::string out;
  auto line = [&]<class... T>(fmt::format_string<T...> format, T&&... args) {
    out += fmt::format(format, std::forward<T>(args)...);
    out += '\n';
  };
  line("== CPU-bound: {} x factorial({}) (the product 1 * ... * {}, {} bits), {} core{} ==", r.options.count,
       r.options.n, r.options.n - 1, r.bits, r.cores, r.cores == 1 ? "" : "s");
  line("");
  const bool py = !r.python_version.empty();
  if (py)
    line("{:<38} {:>18}   {:>18}", "", "C++", "CPython " + r.python_version);
  line("{:<38} {:>8} {:>9}{}", "way", "seconds", "speed-up", py ? fmt::format("   {:>8} {:>9}", "seconds", "speed-up") : "");
  const double sync = r.rows.front().seconds;
  const double py_sync = py ? r.rows.front().python_seconds.value_or(0) : 0;
  for (const auto& row : r.rows) {
    std::string cpy;
    if (py && row.python_seconds)
      cpy = fmt::format("   {:>8.2f} {:>8.2f}x", *row.python_seconds, py_sync / *row.python_seconds);
    line("{:<38} {:>8.2f} {:>8.2f}x{}", row.name, row.seconds, sync / row.seconds, cpy);
  }
  line("");
  if (!r.results_equal) line("WARNING: the runs did not all compute the same numbers.");
  const double cpp_threads = sync / r.rows[1].seconds;
  if (py) {
    const double py_threads = py_sync / r.rows[1].python_seconds.value_or(1);
    line("One thread: C++ (GMP) takes {:.2f} s where CPython takes {:.2f} s.", sync, py_sync);
    line("Threads: C++ has no GIL, so a thread pool can keep every core busy ({:.2f}x here);",
         cpp_threads);
    line("CPython's threads take turns holding the GIL ({:.2f}x): no faster than one thread.",
         py_threads);
  } else {
    line("Threads: C++ has no GIL, so a thread pool can keep every core busy ({:.2f}x here).",
         cpp_threads);
    if (!r.python_note.empty()) line("({})", r.python_note);
  }
  line("Processes use every core in both languages, but pay for starting the workers and for");
  line("copying each result from one address space to another (serialized, then sent on a socket).");
  line("asyncio + executor: the loop hands the calls to the pool and awaits their futures; the");
  line("figures follow the pool underneath, since the loop itself computes nothing.");
  if (py && !r.python_note.empty()) line("({})", r.python_note);
  if (!r.mpi_note.empty()) line("({})", r.mpi_note);
  if (r.load_average > 0.5)
    line("Note: the load average was {:.1f} before the run: other programs shared the {} cores,\n"
         "so the speed-ups are lower than they would be on an idle machine.",
         r.load_average, r.cores);
  return out;
}

int run_cpu(const CpuOptions& options) {
  CpuReport report = measure_cpu(options);
  fmt::print("{}\n", format_cpu_report(report));
  std::fflush(stdout);
  return report.results_equal ? 0 : 1;
}

}  // namespace tour
