#pragma once
/// \file graph.hpp
/// "Where is my task stuck": the await graph of the running loop's tasks
/// (CPython 3.14 `asyncio/graph.py`: capture_call_graph, format_call_graph,
/// print_call_graph; `python -m asyncio pstree`).
///
/// For each pending task the dump shows:
///
/// ```text
/// * <Task pending name='holder' coro=<hold()>>
///   waits on: asyncio::Queue get <Queue maxsize=0 qsize=0 _getters[1]>
///   + coroutine frames, innermost first:
///   |   take_one()
///   |   hold()
///   + awaited by:
///   |   <Task pending name='Task-1' coro=<main()>>
/// ```
///
/// - the task and what it waits on: a sleep (with its deadline), a Lock,
///   Event, Condition, Semaphore or Queue (with its repr and waiter counts),
///   another task, or a future (with the label a stream or executor gave it
///   through trace_await_label when tracing is on);
/// - the coroutine frames it awaits inline (`co_await coro()`), innermost
///   first, by coroutine name (C++ keeps no line of a suspended co_await;
///   recording one would cost every frame bytes: detail/await_site.hpp);
/// - the tasks that await it directly.
///
/// Debug mode's slow-step report (events.hpp, `slow_callback_duration`) ends
/// with this dump of every task.
///
/// Available on demand (`print_all_tasks()`), and on `SIGUSR1` when
/// `loop.dump_tasks_on_signal()` or `ASYNCIO_DUMP_ON_SIGNAL=1` (read by
/// `asyncio::run`) asks for it: `kill -USR1 <pid>` prints the dump on stderr. Limits: a coroutine whose result type is aligned beyond 16
/// bytes is shown without the frames it awaits inline.
///
/// Thread safety: call on the loop's thread (the signal handler runs there).
#include <iosfwd>
#include <string>

#include "asyncio/detail/core.hpp"

namespace asyncio {

class AnyTask;

/// The await chain of one task, as text (`asyncio.format_call_graph`).
std::string format_call_graph(const AnyTask& task);
/// Every pending task of the running loop with its await chain, in creation order.
std::string format_all_tasks();
/// Prints format_all_tasks() to `os` (std::cerr by default). RuntimeError
/// outside a running loop.
void print_all_tasks(std::ostream& os);
void print_all_tasks();

namespace detail {

/// What a suspended task waits on: `on` a short kind ("sleep", "asyncio::Lock",
/// "asyncio::Queue get", "task", "future", "sleep(0)", a trace label) and
/// `detail` its repr. Empty `on` when the task is not waiting (running, done).
struct WaitInfo {
  std::string on;
  std::string detail;
};
WaitInfo describe_wait(const TaskCore& task);
/// A sleep's deadline (loop ns) when `fut` is the future of a sleep(), else -1.
std::int64_t sleep_deadline(const FutureCore& fut) noexcept;
/// For debug mode's slow-step report, before the step runs: "the step resumed
/// crunch() <- main() after it waited on sleep at t.cpp:12" (the site when
/// debug mode recorded it).
std::string describe_step(const TaskCore& task);
/// The coroutine names from the innermost suspended frame of `task` out to the
/// task's own, one per line, each "file:line in name()" when debug mode
/// recorded its co_await, else "name()".
std::string format_frames(const TaskCore& task, const std::string& indent);

}  // namespace detail
}  // namespace asyncio
