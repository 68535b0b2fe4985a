// A program outside the project that uses the library as a user would: through
// find_package(asyncio), add_subdirectory, or `pkg-config --cflags --libs asyncio`
// (tests/consumer/run.cmake builds it each way). It runs coroutines on the loop and a call in a
// process pool, and prints what they computed; run.cmake checks the lines.
#include <asyncio/asyncio.hpp>
#include <asyncio/process_pool.hpp>  // not in the umbrella header: it needs cereal
#include <fmt/core.h>

#include <chrono>
#include <cstring>

using namespace std::chrono_literals;

int triple(int x) { return 3 * x; }
ASYNCIO_REGISTER_PROCESS_FUNCTION(triple);

asyncio::Coro<int> twice_later(int x, std::chrono::milliseconds delay) {
  co_await asyncio::sleep(delay);
  co_return 2 * x;
}

asyncio::Coro<int> main_() {
  // The second task finishes first; gather keeps the order of its arguments.
  auto [a, b] = co_await asyncio::gather(twice_later(10, 20ms), twice_later(11, 1ms));
  asyncio::ProcessPoolExecutor pool(1);
  int c = co_await asyncio::get_running_loop().run_in_executor(pool, triple, 7);
  co_return a + b + c;
}

int main(int argc, char** argv) {
  asyncio::process_pool_worker_main(argc, argv);  // the process pool's workers serve here
  // The version the build system found must be the one the headers say.
  if (argc > 1 && std::strcmp(argv[1], ASYNCIO_VERSION_STRING) != 0) {
    fmt::print("version mismatch: headers say {}, the package says {}\n", ASYNCIO_VERSION_STRING, argv[1]);
    return 1;
  }
  // Virtual time: the sleeps cost nothing (this test is about linking, not timers).
  asyncio::RunOptions options;
  options.virtual_time = true;
  fmt::print("asyncio {}: {}\n", ASYNCIO_VERSION_STRING, asyncio::run(main_(), options));
}
