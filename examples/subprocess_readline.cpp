// Twin of subprocess_readline.py: read a child's stdout line by line while it
// runs (the asyncio docs' "get_date" example, with several lines over time).
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <string>

const char* const CHILD = "for i in 1 2 3; do echo \"tick $i\"; sleep 0.2; done; echo done";

asyncio::Coro<> main_() {
  asyncio::Process proc =
      co_await asyncio::create_subprocess_exec("/bin/sh", "-c", CHILD, asyncio::SubprocessOptions{.stdout = asyncio::subprocess::PIPE});

  for (;;) {
    std::string line = co_await proc.stdout->readline();
    if (line.empty()) break;  // EOF
    line.pop_back();          // the newline (Python: rstrip())
    fmt::print("got: {}\n", line);
    std::fflush(stdout);
  }

  int returncode = co_await proc.wait();
  fmt::print("child exited with {}\n", returncode);
}

int main() { asyncio::run(main_()); }
