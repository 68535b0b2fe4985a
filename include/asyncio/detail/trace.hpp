#pragma once
/// \file detail/trace.hpp
/// Tracing: what ran where and when, as a Chrome Trace Event Format file
/// (opens in Perfetto or chrome://tracing; `asyncio-timeline` and the tour draw
/// SVG timelines from it, see tools/timeline/timeline.hpp).
///
/// Switched on by `RunOptions::trace_path` or `ASYNCIO_TRACE=file.json`, or
/// `loop.enable_tracing(path)`. The file has one lane (tid) per task, named
/// after the task and its coroutine, and:
///
/// - a complete event (`"ph":"X"`, `"cat":"step"`) for each step of a task:
///   `ts` is the loop time when the step began (virtual seconds in
///   virtual-time mode) and `dur` its real duration, both in microseconds;
/// - between two steps, a `"cat":"wait"` event named after what the task
///   waited on (`sleep`, `asyncio::Lock`, `asyncio::Queue get`, `task`,
///   `future`, `executor job`, or a label given through trace_await_label;
///   `args.on` holds the repr), then a `"cat":"ready"` event from the moment
///   it was woken to the step that resumed it (ready but not running);
/// - instant events: `created`, `cancel requested`, and how the task ended
///   (`returned`, `raised` with `args.exception`, `cancelled`).
///
/// Executors record their jobs in lanes of their own (`worker_lane`): tids
/// 2^40 + n for pool thread n, 2^40 + 2^32 + pid for a worker process.
///
/// With tracing off, a task switch pays one predictable branch, and so does
/// trace_await_label.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "asyncio/detail/core.hpp"

namespace asyncio::detail {

class Tracer {
 public:
  struct Event {
    char phase;          // 'X' slice, 'i' instant, 'M' lane name
    std::uint64_t lane;  // task id, or an executor lane
    std::int64_t ts_ns;  // loop time
    std::int64_t dur_ns;
    std::string name;
    const char* cat = "";  // X: "step", "wait", "ready", "job"
    std::string detail;    // args: "on" (wait), "exception" (raised)
  };
  explicit Tracer(std::string path, bool virtual_clock = false)
      : path_(std::move(path)), virtual_clock_(virtual_clock) {}
  /// In virtual time, `ts` is virtual and `dur` real: the file says so
  /// (`"otherData": {"clock": "virtual"}`) so that renderers draw steps as instants.
  bool virtual_clock() const noexcept { return virtual_clock_; }

  void lane_name(std::uint64_t lane, std::string name);
  void instant(std::uint64_t lane, std::int64_t ts_ns, std::string name, std::string detail = {});
  void slice(std::uint64_t lane, std::int64_t ts_ns, std::int64_t dur_ns, std::string name,
             const char* cat = "step", std::string detail = {});

  // ---- task states between steps (loop thread only) ----
  /// A task's step ended with the task waiting on `on` (its repr in `detail`).
  void task_suspended(std::uint64_t task, std::int64_t ts_ns, std::string on, std::string detail);
  /// The task was put on the ready queue (its wait ended); the first call counts.
  void task_ready(std::uint64_t task, std::int64_t ts_ns);
  /// A step begins: records the wait and the ready time that preceded it.
  void task_resumed(std::uint64_t task, std::int64_t ts_ns);
  /// A task ended: closes what is open.
  void task_finished(std::uint64_t task) { open_.erase(task); }

  // ---- labels of futures (see trace_await_label) ----
  void label_future(const void* fut, const char* what) { labels_[fut] = what; }
  void forget_future(const void* fut) { labels_.erase(fut); }
  const char* future_label(const void* fut) const {
    auto it = labels_.find(fut);
    return it == labels_.end() ? nullptr : it->second;
  }

  /// A lane id for an executor worker (thread or process), distinct from task ids.
  static std::uint64_t worker_lane(std::uint64_t worker) noexcept { return (1ull << 40) + worker; }
  /// Writes the file; returns false (and logs) on I/O error.
  bool write() const;
  const std::string& path() const noexcept { return path_; }
  std::vector<Event> events() const;

 private:
  struct Open {
    std::int64_t since;     // the step ended (or the task was created)
    std::int64_t ready = -1;
    std::string on, detail;  // empty `on`: created, not started
  };
  std::string path_;
  bool virtual_clock_;
  mutable std::mutex mutex_;  // executors record from their threads
  std::vector<Event> events_;
  std::unordered_map<std::uint64_t, Open> open_;       // task id -> its current wait
  std::unordered_map<const void*, const char*> labels_;  // future -> what it stands for
};

/// The hook for awaitables built on a plain future (a stream read, a child
/// process, an executor job): names what a task waiting on `fut` waits for in
/// traces and timelines ("stream read"). Call it when the future is created,
/// and trace_forget_label when it completes (its memory may be reused).
/// One predictable branch when tracing is off.
inline void trace_await_label(LoopCore& loop, const FutureCore& fut, const char* what) {
  if (Tracer* t = loop.tracer()) [[unlikely]] t->label_future(&fut, what);
}
inline void trace_forget_label(LoopCore& loop, const FutureCore& fut) {
  if (Tracer* t = loop.tracer()) [[unlikely]] t->forget_future(&fut);
}

/// trace_await_label for the life of a scope: labels `fut` now and forgets the
/// label when the scope ends (the awaiting coroutine resumed or was destroyed).
class ScopedAwaitLabel {
 public:
  ScopedAwaitLabel(LoopCore& loop, const FutureCore& fut, const char* what) : loop_(loop), fut_(fut) {
    trace_await_label(loop, fut, what);
  }
  ScopedAwaitLabel(const ScopedAwaitLabel&) = delete;
  ScopedAwaitLabel& operator=(const ScopedAwaitLabel&) = delete;
  ~ScopedAwaitLabel() { trace_forget_label(loop_, fut_); }

 private:
  LoopCore& loop_;
  const FutureCore& fut_;
};

}  // namespace asyncio::detail
