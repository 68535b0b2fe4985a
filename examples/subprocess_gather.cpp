// Twin of subprocess_gather.py: several commands at once with gather (the
// asyncio docs' second subprocess example); the quicker command reports first.
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

asyncio::Coro<> main_() {
  co_await asyncio::gather(run("sleep 1; echo \"hello\""), run("ls /zzz"), run("sleep 0.2; exit 7"));
}

int main() { asyncio::run(main_()); }
