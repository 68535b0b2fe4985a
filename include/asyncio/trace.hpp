#pragma once
/// \file trace.hpp
/// Tracing: what ran where and when, as a Chrome Trace Event Format file
/// (opens in Perfetto or chrome://tracing; the tour draws SVG timelines from it).
///
/// Switched on by `RunOptions::trace_path` or `ASYNCIO_TRACE=file.json`, or
/// `loop.enable_tracing(path)`. The file has one lane (tid) per task, named
/// after the task, and a complete event ("ph":"X") for each step of the task:
/// `ts` is the loop time when the step began (virtual seconds in virtual-time
/// mode) and `dur` its real duration, both in microseconds. Instant events
/// mark creation and the end of each task (`returned`, `raised`, `cancelled`).
/// Executors record their jobs in lanes of their own (thread or process).
///
/// With tracing off, a task switch pays one predictable branch.
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace asyncio::detail {

class Tracer {
 public:
  struct Event {
    char phase;          // 'X' slice, 'i' instant, 'M' lane name
    std::uint64_t lane;  // task id, or an executor lane
    std::int64_t ts_ns;  // loop time
    std::int64_t dur_ns;
    std::string name;
  };
  explicit Tracer(std::string path, bool virtual_clock = false)
      : path_(std::move(path)), virtual_clock_(virtual_clock) {}
  /// In virtual time, `ts` is virtual and `dur` real: the file says so
  /// (`"otherData": {"clock": "virtual"}`) so that renderers draw steps as instants.
  bool virtual_clock() const noexcept { return virtual_clock_; }

  void lane_name(std::uint64_t lane, std::string name);
  void instant(std::uint64_t lane, std::int64_t ts_ns, std::string name);
  void slice(std::uint64_t lane, std::int64_t ts_ns, std::int64_t dur_ns, std::string name);
  /// A lane id for an executor worker (thread or process), distinct from task ids.
  static std::uint64_t worker_lane(std::uint64_t worker) noexcept { return (1ull << 40) + worker; }
  /// Writes the file; returns false (and logs) on I/O error.
  bool write() const;
  const std::string& path() const noexcept { return path_; }
  std::vector<Event> events() const;

 private:
  std::string path_;
  bool virtual_clock_;
  mutable std::mutex mutex_;  // executors record from their threads
  std::vector<Event> events_;
};

}  // namespace asyncio::detail
