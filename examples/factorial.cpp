// CPU-bound work three ways: one thread, a process pool, a thread pool (factorial.py's twin).
// Without a GIL, the thread pool runs the multiplications on every core; the process pool
// also does, but pays for starting its workers and for copying each result back.
#include <asyncio/process_pool.hpp>
#include <asyncio/serialize_gmp.hpp>  // mpz_class through the process pool
#include <fmt/core.h>
#include <gmpxx.h>

#include <chrono>
#include <vector>

// factorial.py's factorial(n): the product 1 * 2 * ... * (n - 1), one multiplication at a
// time. (gmpxx already has a factorial(), a fast one, so ours gets another name.)
mpz_class slow_factorial(int n) {
  mpz_class f = 1;
  for (int i = 1; i < n; ++i) f = f * i;
  return f;
}
ASYNCIO_REGISTER_PROCESS_FUNCTION(slow_factorial);  // process pools run functions by name

const std::vector<int> numbers(300, 10000);

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int main(int argc, char** argv) {
  asyncio::process_pool_worker_main(argc, argv);  // if __name__ == "__main__": (workers serve here)
  auto t = std::chrono::steady_clock::now();
  std::vector<mpz_class> r0;
  for (int n : numbers) r0.push_back(slow_factorial(n));
  fmt::print("Sync Duration: {} seconds\n", seconds_since(t));

  t = std::chrono::steady_clock::now();
  std::vector<mpz_class> r1;
  {
    asyncio::ProcessPoolExecutor pool;
    r1 = pool.map(slow_factorial, numbers);
  }
  fmt::print("Process pool Duration: {} seconds\n", seconds_since(t));

  t = std::chrono::steady_clock::now();
  std::vector<mpz_class> r2;
  {
    asyncio::ThreadPoolExecutor pool;
    r2 = pool.map(slow_factorial, numbers);
  }
  fmt::print("Thread pool Duration: {} seconds\n", seconds_since(t));

  if (!(r0 == r1 && r1 == r2)) {
    fmt::print(stderr, "the three runs computed different results\n");
    return 1;
  }
  fmt::print("bits of factorial(10000): {}\n", mpz_sizeinbase(r0[0].get_mpz_t(), 2));
}
