// Twin of errors.py: an exception propagates through co_await to run(), which
// rethrows it; the third call never happens.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <stdexcept>

asyncio::Coro<> failing_func() {
  throw std::runtime_error("Failure");
  co_return;
}

asyncio::Coro<> success_func() {
  fmt::print("Success\n");
  co_return;
}

asyncio::Coro<> run() {
  co_await success_func();
  co_await failing_func();
  co_await success_func();
}

int main() {
  // Python prints the traceback of an uncaught exception and exits with
  // status 1; an uncaught C++ exception would abort instead, so do it here.
  try {
    asyncio::run(run());
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", asyncio::exception_type_name(std::current_exception()), e.what());
    return 1;
  }
}
