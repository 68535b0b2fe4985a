// Twin of subprocess_communicate.py: send input to a child and collect its
// output with communicate(); a megabyte, far more than a pipe holds, goes
// through without deadlock.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <string>

using asyncio::subprocess::PIPE;

asyncio::Coro<> main_() {
  asyncio::Process proc = co_await asyncio::create_subprocess_exec("tr", "a-z", "A-Z",
                                                                   asyncio::SubprocessOptions{.stdin = PIPE, .stdout = PIPE});
  auto [out, _] = co_await proc.communicate("hello from the parent\n");
  out.pop_back();  // rstrip()
  fmt::print("tr said: {} (exit {})\n", out, *proc.returncode());

  proc = co_await asyncio::create_subprocess_exec("wc", "-c", asyncio::SubprocessOptions{.stdin = PIPE, .stdout = PIPE});
  auto [count, _2] = co_await proc.communicate(std::string(1'000'000, 'x'));
  fmt::print("wc counted {} bytes (exit {})\n", std::stol(count), *proc.returncode());
}

int main() { asyncio::run(main_()); }
