#pragma once
// `asyncio-tour cpu`: the seed chapter's CPU-bound demonstration (factorial.py) as a table.
// The same work -- `count` times the product 1 * 2 * ... * (n - 1) -- runs on one thread, in a
// thread pool, in a process pool, and from asyncio through run_in_executor (the default thread
// pool, then a process pool); seconds and speed-up over one thread. When python3 is on PATH,
// CPython does the same work in the same run, so the GIL's effect shows side by side.
#include <CLI/CLI.hpp>
#include <gmpxx.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tour {

/// factorial.py's factorial(n): the product 1 * 2 * ... * (n - 1), one multiplication at a
/// time (registered for process pools as "tour::slow_factorial").
mpz_class slow_factorial(int n);

struct CpuOptions {
  int n = 10000;                // factorial(n): the product 1..n-1, as factorial.py
  int count = 300;              // how many times
  std::size_t threads = 0;      // thread pool size; 0: min(32, cores + 4), Python's default
  std::size_t processes = 0;    // process pool size; 0: the number of cores
  bool python = true;           // also measure CPython, when python3 is on PATH
  std::string python_exe = "python3";
  bool mpi = false;             // also run build/examples/factorial_mpi under mpirun, when present
};

/// One line of the table: a way of running the work, in C++ and (when measured) in CPython.
struct CpuRow {
  std::string name;
  double seconds = 0;
  std::optional<double> python_seconds;
};

struct CpuReport {
  CpuOptions options;
  unsigned cores = 0;
  double load_average = 0;  // 1-minute load average before the run (other programs' work)
  std::size_t bits = 0;  // bits of the product, the same for every row
  std::vector<CpuRow> rows;
  std::string python_version;  // empty when CPython was not measured
  std::string python_note;     // why CPython was not measured, or what went wrong
  std::string mpi_note;        // --mpi: why MPI was not measured, or what went wrong
  bool results_equal = true;   // every C++ row computed the same numbers (and CPython the same bits)
};

/// Adds the `cpu` subcommand; `run` is called with its options when it is chosen.
void add_cpu_command(CLI::App& app, std::function<void(const CpuOptions&)>& run);
/// Measures every row (progress on stderr when it is a terminal).
CpuReport measure_cpu(const CpuOptions& options);
/// The table and what it shows, as text.
std::string format_cpu_report(const CpuReport& report);
/// measure_cpu + print; returns 0, or 1 if the runs disagreed on the results.
int run_cpu(const CpuOptions& options);

}  // namespace tour
