// Twin of subprocess_shell.py: run a shell command, print its output and exit
// code (the asyncio docs' first subprocess example).
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <string>

using asyncio::subprocess::PIPE;

asyncio::Coro<> run(std::string cmd) {
  asyncio::Process proc = co_await asyncio::create_subprocess_shell(cmd, {.stdout = PIPE, .stderr = PIPE});

  auto [out, err] = co_await proc.communicate();

  fmt::print("['{}' exited with {}]\n", cmd, *proc.returncode());
  if (!out.empty()) fmt::print("[stdout]\n{}\n", out);
  if (!err.empty()) fmt::print("[stderr]\n{}\n", err);
}

int main() { asyncio::run(run("echo hello; echo oops >&2; exit 3")); }
