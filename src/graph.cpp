// The await graph of tasks (CPython 3.14 asyncio/graph.py); see graph.hpp.
#include "asyncio/graph.hpp"

#include <fmt/core.h>

#include <iostream>
#include <sstream>
#include <typeinfo>
#include <vector>

#include "asyncio/coroutines.hpp"
#include "asyncio/detail/await_site.hpp"
#include "asyncio/detail/waiters.hpp"
#include "asyncio/events.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/detail/trace.hpp"

namespace asyncio {
namespace detail {
namespace {

// The promise of one of our coroutines from its type-erased handle. Every
// Promise<T> starts with its CoroPromise, and gcc and clang place the promise
// right after the frame's two function pointers: Promise<void>'s offset holds
// for every T aligned to 16 bytes or less (graph.hpp's limit).
const CoroPromise* promise_of(std::coroutine_handle<> h) noexcept {
  return static_cast<const CoroPromise*>(__builtin_coro_promise(h.address(), alignof(Promise<void>), false));
}

// "take_one()": the frame's coroutine.
std::string frame_line(const CoroPromise& p) { return std::string(p.name()) + "()"; }

// Calls `fn(promise)` for each inline coroutine frame the task is suspended
// in, innermost first (not the task's own, outermost frame).
template <class Fn>
void for_each_inner_frame(const TaskCore& task, Fn fn) {
  const CoroPromise* own = &task.promise();
  std::coroutine_handle<> h = task.continuation();
  for (int depth = 0; h && depth < 256; ++depth) {
    const CoroPromise* p = promise_of(h);
    if (p == own) break;
    fn(*p);
    h = p->continuation();
  }
}

}  // namespace

WaitInfo describe_wait(const TaskCore& task) {
  if (task.done()) return {};
  LoopCore* loop = task.loop();
  const FutureCore* fut = task.fut_waiter();
  if (fut == nullptr) return {"sleep(0)", "ready to run"};
  if (Tracer* tr = loop != nullptr ? loop->tracer() : nullptr) {
    if (const char* label = tr->future_label(fut)) return {label, "<Future " + fut->state_name() + ">"};
  }
  if (std::int64_t when = sleep_deadline(*fut); when >= 0) {
    double left = loop != nullptr ? static_cast<double>(when - loop->now_ns()) * 1e-9 : 0.0;
    return {"sleep", fmt::format("sleep: wakes at loop time {:.3f} s (in {:.3f} s)", static_cast<double>(when) * 1e-9,
                                 left)};
  }
  if (const auto* other = dynamic_cast<const TaskCore*>(fut); other != nullptr && other->is_task_core())
    return {"task", task_repr(*other)};
  if (const auto* entry = dynamic_cast<const WaitEntry*>(fut)) {
    if (const WaitList* list = WaitList::of(*entry)) {
      std::ostringstream os;
      list->print_owner(os);
      std::string on = list->owner();
      if (const char* role = list->role_of(*entry)) on += std::string(" ") + role;
      return {on, os.str()};
    }
    return {"primitive", "a synchronisation primitive (woken, about to run)"};
  }
  return {"future", "<Future " + fut->state_name() + ">"};
}

std::string format_frames(const TaskCore& task, const std::string& indent) {
  std::string out;
  for_each_inner_frame(task, [&](const CoroPromise& p) { out += indent + frame_line(p) + "\n"; });
  out += indent + frame_line(task.promise()) + "\n";
  return out;
}

std::string describe_step(const TaskCore& task) {
  // One line, innermost first: "crunch() <- main()", then what the task waited on.
  std::string chain;
  for_each_inner_frame(task, [&](const CoroPromise& p) { chain += (chain.empty() ? "" : " <- ") + frame_line(p); });
  chain += (chain.empty() ? "" : " <- ") + frame_line(task.promise());
  if (!task.started()) return "the task's first step ran " + chain;
  WaitInfo w = describe_wait(task);
  return "the step resumed " + chain + (w.on.empty() ? "" : " after it waited on " + w.on);
}

namespace {

void format_task(std::string& out, const TaskCore& t, const std::string& pad) {
  out += pad + "* " + task_repr(t) + "\n";
  bool running = t.loop() != nullptr && t.loop()->current_task() == &t;
  WaitInfo w = running ? WaitInfo{} : describe_wait(t);
  if (!w.on.empty()) out += pad + "  waits on: " + w.on + (w.detail.empty() ? "" : " " + w.detail) + "\n";
  else if (running) out += pad + "  running now\n";
  if (!t.done() && !running) {  // a running task's frames change as it runs
    out += pad + "  + coroutine frames, innermost first:\n";
    out += format_frames(t, pad + "  |   ");
  }
  std::vector<const TaskCore*> awaiters;
  if (LoopCore* loop = t.loop()) {
    for (const TaskCore* o : loop->tasks_in_creation_order())
      if (o->fut_waiter() == &t) awaiters.push_back(o);
  }
  if (!awaiters.empty()) {
    out += pad + "  + awaited by:\n";
    for (const TaskCore* o : awaiters) out += pad + "  |   " + task_repr(*o) + "\n";
  }
}

}  // namespace
}  // namespace detail

std::string format_call_graph(const AnyTask& task) {
  std::string out;
  detail::format_task(out, task.core(), "");
  return out;
}

std::string format_all_tasks() {
  auto& loop = get_running_loop();
  std::string out = fmt::format("{} pending task(s) at loop time {:.3f} s\n", loop.task_count(), loop.time());
  for (const detail::TaskCore* t : loop.tasks_in_creation_order()) detail::format_task(out, *t, "");
  return out;
}

void print_all_tasks(std::ostream& os) { os << format_all_tasks() << std::flush; }
void print_all_tasks() { print_all_tasks(std::cerr); }

}  // namespace asyncio
