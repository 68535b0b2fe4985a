// Internals of subprocess.hpp shared by src/process.cpp and src/subprocess.cpp.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "asyncio/subprocess.hpp"

struct uv_process_s;

namespace asyncio::detail {

/// What a Process and the loop's process handle share.
struct ProcessState {
  EventLoop* loop = nullptr;
  int pid = 0;
  std::optional<int> returncode;
  std::vector<Future<int>> waiters;  // wait() calls, woken at exit
  uv_process_s* handle = nullptr;    // while the child runs

  /// The child exited with `code` (negative: killed by that signal).
  void exited(int code);
};

/// A started child: its state and the parent's ends of its pipes (-1: none).
struct SpawnedProcess {
  std::shared_ptr<ProcessState> state;
  int fds[3] = {-1, -1, -1};
  static Process make(std::shared_ptr<ProcessState> s) { return Process(std::move(s)); }
};

/// Signal `sig` to the child; ProcessLookupError once it has exited.
void send_signal(ProcessState& st, int sig);

}  // namespace asyncio::detail
