// The CPU-bound factorial work of factorial.cpp, on MPI ranks: the same calls through
// MpiPoolExecutor and through ProcessPoolExecutor, the same sum from both.
//
//   mpirun -np 3 --oversubscribe build/examples/factorial_mpi [n [count [chunksize [mpi-only]]]]
//
// Rank 0 runs main(); ranks 1..N-1 serve the calls from its first line (see
// include/asyncio/mpi/executor.hpp). On a cluster: mpirun -np 64 --hostfile hosts ...
// Python's twin is mpi4py.futures:
//
//   with MPIPoolExecutor() as pool:
//       results = list(pool.map(factorial, numbers, chunksize=chunksize))
#include <asyncio/mpi/executor.hpp>
#include <asyncio/serialize_gmp.hpp>  // mpz_class through the process pool
#include <fmt/core.h>
#include <gmpxx.h>

#include <chrono>
#include <cstdlib>
#include <string_view>
#include <vector>

// factorial.py's factorial(n): the product 1 * 2 * ... * (n - 1), one multiplication at a time.
mpz_class slow_factorial(int n) {
  mpz_class f = 1;
  for (int i = 1; i < n; ++i) f = f * i;
  return f;
}
ASYNCIO_REGISTER_PROCESS_FUNCTION(slow_factorial);  // registered once, for both pools

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

mpz_class sum(const std::vector<mpz_class>& xs) {
  mpz_class total = 0;
  for (const auto& x : xs) total += x;
  return total;
}

int main(int argc, char** argv) {
  asyncio::process_pool_worker_main(argc, argv);  // worker ranks and pool workers serve here
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int count = argc > 2 ? std::atoi(argv[2]) : 300;
  const std::size_t chunksize = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 4;
  const bool mpi_only = argc > 4 && std::string_view(argv[4]) == "mpi-only";  // asyncio-tour's row
  if (n < 2 || count < 1 || chunksize < 1) {
    fmt::print(stderr, "usage: mpirun -np N factorial_mpi [n >= 2 [count >= 1 [chunksize >= 1]]]\n");
    return 2;
  }
  const std::vector<int> numbers(static_cast<std::size_t>(count), n);

  auto t = std::chrono::steady_clock::now();
  std::vector<mpz_class> by_mpi;
  std::size_t ranks = 0;
  {
    asyncio::MpiPoolExecutor pool;
    ranks = pool.max_workers();
    by_mpi = pool.map(chunksize, slow_factorial, numbers);
  }
  fmt::print("MPI pool ({} worker ranks, chunksize {}) Duration: {} seconds\n", ranks, chunksize,
             seconds_since(t));

  // The sum has tens of thousands of digits: show its size and its last digits.
  const mpz_class mpi_sum = sum(by_mpi);
  const mpz_class tail = mpi_sum % 1'000'000'007;
  fmt::print("sum of the {} results: {} bits, mod 1000000007 = {}\n", count,
             mpz_sizeinbase(mpi_sum.get_mpz_t(), 2), tail.get_str());
  if (mpi_only) return 0;

  t = std::chrono::steady_clock::now();
  std::vector<mpz_class> by_processes;
  {
    asyncio::ProcessPoolExecutor pool;
    by_processes = pool.map(slow_factorial, numbers);
  }
  fmt::print("Process pool Duration: {} seconds\n", seconds_since(t));
  const mpz_class process_sum = sum(by_processes);
  if (mpi_sum != process_sum) {
    fmt::print("MPI pool and process pool: DIFFERENT sums\n");
    return 1;
  }
  fmt::print("MPI pool and process pool: the same sum\n");
}
