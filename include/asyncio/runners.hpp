#pragma once
/// \file runners.hpp
/// `asyncio::run` (CPython `asyncio/runners.py`).
///
/// ```cpp
/// asyncio::Coro<void> main_() { ... }
/// int main() { asyncio::run(main_()); }      // Python: asyncio.run(main())
/// ```
///
/// `run(main)` creates a new event loop, runs `main` as a task until it is
/// done, then cancels every task still pending and runs the loop until they
/// have finished (reporting those that ended with an error), shuts the default
/// executor down, and closes the loop. It returns main's value or rethrows its
/// exception. It cannot be called while a loop runs on this thread.
///
/// Options, each also switched on by an environment variable for any program:
///
/// | RunOptions     | environment            | effect                                    |
/// |----------------|------------------------|-------------------------------------------|
/// | `debug`        | `ASYNCIO_DEBUG=1`      | asyncio's debug mode (slow callbacks, never-awaited coroutines, thread checks) |
/// | `virtual_time` | `ASYNCIO_VIRTUAL_TIME=1` | the clock jumps to the next timer when nothing else can happen (events.hpp) |
/// | `trace_path`   | `ASYNCIO_TRACE=file.json` | writes a Chrome trace: one lane per task, a slice per step (trace.hpp) |
#include <string>

#include "asyncio/tasks.hpp"

namespace asyncio {

struct RunOptions {
  bool debug = false;
  bool virtual_time = false;
  std::string trace_path;
};

namespace detail {
/// Makes the loop for run(): options merged with the environment.
std::unique_ptr<EventLoop> make_run_loop(const RunOptions& options);
/// Runs `main` to its end, then tears down as asyncio.run does (no throw).
void run_main_and_teardown(EventLoop& loop, TaskCore& main);
}  // namespace detail

/// Runs `main` on a new event loop and returns its result; see the file comment.
template <class T>
T run(Coro<T> main, RunOptions options = {}) {
  if (detail::t_running_loop != nullptr)
    throw RuntimeError("asyncio.run() cannot be called from a running event loop");
  auto loop = detail::make_run_loop(options);
  Task<T> task = loop->create_task(std::move(main));
  detail::run_main_and_teardown(*loop, task.core());
  if constexpr (std::is_void_v<T>) {
    task.result();
  } else {
    T value = std::move(const_cast<T&>(task.result()));
    return value;
  }
}

}  // namespace asyncio
