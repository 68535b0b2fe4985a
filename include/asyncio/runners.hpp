#pragma once
/// \file runners.hpp
/// `asyncio::run` and `asyncio::Runner` (CPython `asyncio/runners.py`).
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
/// It is `Runner(options).run(main)` followed by `close()`.
///
/// `Runner` (Python 3.11's `asyncio.Runner`) runs several coroutines on one
/// loop; the RAII object is Python's `with asyncio.Runner() as runner:`:
///
/// ```cpp
/// {
///   asyncio::Runner runner;                 // with asyncio.Runner() as runner:
///   runner.run(first());                    //     runner.run(first())
///   runner.run(second());                   //     runner.run(second())  (same loop)
/// }                                         // __exit__: runner.close()
/// ```
///
/// Ctrl-C, as Python: while `run()` runs on the main thread and SIGINT has its
/// default disposition (the program installed no handler of its own), the first
/// SIGINT cancels the main task, so its `finally` blocks (destructors, catch
/// and rethrow) and TaskGroups unwind; `run()` then throws
/// `asyncio::KeyboardInterrupt` (exceptions.hpp), unless the task swallowed the
/// cancellation and returned. A second SIGINT before the main task is done (or
/// the first after it is done) makes `run()` throw KeyboardInterrupt at once,
/// where Python raises it inside whatever code runs; `close()` then cancels
/// the main task with the others. After `run()` SIGINT is the default again (a
/// third Ctrl-C during `close()` ends the process, as Python's default handler
/// would raise there). A handler set with `loop.add_signal_handler(SIGINT, ...)`
/// takes precedence over the Runner's.
///
/// Options, each also switched on by an environment variable for any program:
///
/// | RunOptions     | environment            | effect                                    |
/// |----------------|------------------------|-------------------------------------------|
/// | `debug`        | `ASYNCIO_DEBUG=1`      | asyncio's debug mode (slow callbacks, never-awaited coroutines, thread checks) |
/// | `virtual_time` | `ASYNCIO_VIRTUAL_TIME=1` | the clock jumps to the next timer when nothing else can happen (events.hpp) |
/// | `trace_path`   | `ASYNCIO_TRACE=file.json` | writes a Chrome trace: one lane per task, a slice per step (trace.hpp) |
///
/// Thread safety: a Runner is used by one thread.
#include <memory>
#include <ostream>
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
}  // namespace detail

/// Runs coroutines on one event loop, created on first use (`asyncio.Runner`).
///
/// Lifecycle (Python's `_State`): created → initialized (first `run()` or
/// `get_loop()`) → closed (`close()` or the destructor). `run()` on a closed
/// Runner throws RuntimeError("Runner is closed").
class Runner {
 public:
  explicit Runner(RunOptions options = {}) : options_(std::move(options)) {}
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;
  /// Closes the runner (`__exit__`); errors of close() are reported to stderr.
  ~Runner();

  /// Runs `coro` as the main task until it is done and returns its result
  /// (`Runner.run`); see the file comment for Ctrl-C. RuntimeError("Runner.run()
  /// cannot be called from a running event loop") inside a running loop.
  template <class T>
  T run(Coro<T> coro) {
    if (detail::t_running_loop != nullptr)
      throw RuntimeError("Runner.run() cannot be called from a running event loop");
    Task<T> task = get_loop().create_task(std::move(coro));
    run_main(task.core());
    if constexpr (std::is_void_v<T>) {
      task.result();
    } else {
      T value = std::move(const_cast<T&>(task.result()));
      return value;
    }
  }

  /// Cancels the tasks still pending and runs them to their end, shuts the
  /// default executor down, and closes the loop (`Runner.close`). Does nothing
  /// unless initialized; the Runner is closed afterwards, even if this throws.
  void close();
  /// The runner's loop, created if needed (`Runner.get_loop`).
  EventLoop& get_loop();

  friend std::ostream& operator<<(std::ostream& os, const Runner& r);

 private:
  enum class State { created, initialized, closed };
  void run_main(detail::TaskCore& task);
  void on_sigint(detail::TaskCore& task);

  RunOptions options_;
  State state_ = State::created;
  std::unique_ptr<EventLoop> loop_;
  int interrupt_count_ = 0;
  bool interrupted_now_ = false;  // a SIGINT asked run() to stop at once
};

/// Runs `main` on a new event loop and returns its result; see the file comment.
template <class T>
T run(Coro<T> main, RunOptions options = {}) {
  if (detail::t_running_loop != nullptr)
    throw RuntimeError("asyncio.run() cannot be called from a running event loop");
  Runner runner(std::move(options));
  if constexpr (std::is_void_v<T>) {
    runner.run(std::move(main));
    runner.close();
  } else {
    T value = runner.run(std::move(main));
    runner.close();
    return value;
  }
}

}  // namespace asyncio
