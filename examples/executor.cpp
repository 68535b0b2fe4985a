// Blocking and CPU-bound calls from a coroutine, through executors (executor.py's twin).
// The loop keeps running other tasks while a thread or a process does the work.
#include <asyncio/asyncio.hpp>
#include <asyncio/process_pool.hpp>
#include <asyncio/serialize_gmp.hpp>  // mpz_class through the process pool
#include <fmt/core.h>
#include <gmpxx.h>

#include <fstream>
#include <string>

std::string blocking_io() {
  // File operations (such as logging) can block the event loop: run them in a thread pool.
  std::ifstream f("/dev/urandom", std::ios::binary);
  std::string data(100, '\0');
  f.read(data.data(), static_cast<std::streamsize>(data.size()));
  return data;
}

mpz_class cpu_bound() {
  // CPU-bound operations will block the event loop: in general it is preferable to run them
  // in a process pool. The sum needs more than 64 bits, so it is a GMP integer.
  mpz_class sum = 0;
  for (unsigned long i = 0; i < 10'000'000; ++i) sum += i * i;
  return sum;
}
ASYNCIO_REGISTER_PROCESS_FUNCTION(cpu_bound);  // process pools run functions by name

asyncio::Coro<void> main_() {
  auto& loop = asyncio::get_running_loop();

  // 1. Run in the default loop's executor:
  auto r1 = co_await loop.run_in_executor(nullptr, blocking_io);
  fmt::print("default thread pool {} bytes\n", r1.size());

  // 2. Run in a custom thread pool:
  {
    asyncio::ThreadPoolExecutor pool;
    auto r2 = co_await loop.run_in_executor(pool, blocking_io);
    fmt::print("custom thread pool {} bytes\n", r2.size());
  }

  // 3. Run in a custom process pool:
  {
    asyncio::ProcessPoolExecutor pool;
    auto r3 = co_await loop.run_in_executor(pool, cpu_bound);
    fmt::print("custom process pool {}\n", r3.get_str());
  }
}

int main(int argc, char** argv) {
  asyncio::process_pool_worker_main(argc, argv);  // if __name__ == "__main__": (workers serve here)
  asyncio::run(main_());
}
