// Twin of gather.py: four coroutines run concurrently under gather; with
// return_exceptions, D's error is one of the results instead of propagating.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>
#include <fmt/ostream.h>

#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

asyncio::Coro<long> factorial(std::string name, int number) {
  long f = 1;
  for (int i = 2; i <= number; ++i) {
    fmt::print("Task {}: Compute factorial({})...\n", name, i);
    co_await asyncio::sleep(1s);
    if (number == 100) throw std::runtime_error("Too big number");
    f *= i;
  }
  fmt::print("Task {}: factorial({}) = {}\n", name, number, f);
  co_return f;
}

asyncio::Coro<> main_() {
  // Python: x = await asyncio.gather(..., return_exceptions=True)
  auto x = co_await asyncio::gather(asyncio::return_exceptions, factorial("A", 2), factorial("B", 3),
                                    factorial("C", 4), factorial("D", 100));
  fmt::print("{}\n", fmt::streamed(x));  // a tuple of Outcome<long>, printed as Python prints the list
}

int main() { asyncio::run(main_()); }
