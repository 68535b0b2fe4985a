#pragma once
/// \file timeline.hpp
/// Timelines as pictures: a trace file (trace.hpp's Chrome Trace Event Format,
/// written by `RunOptions::trace_path` / `ASYNCIO_TRACE`) -> a standalone SVG.
///
/// ```cpp
/// auto trace = timeline::load_trace("run.json");   // TraceError when malformed
/// std::string svg = timeline::render_svg(trace, {.title = "gather"});
/// ```
///
/// The picture has one lane per task, per executor thread and per worker
/// process, in three groups. In a task's lane a step (running) is a full-height
/// bar, ready-but-not-running a half-height bar, and waiting a thin bar coloured
/// by what the task waits on (sleep, lock, queue, task, future, executor job,
/// ...); marks show creation, cancellation requests, and how the task ended
/// (returned, raised, cancelled). Every element has a hover `<title>`. Beyond
/// `max_task_lanes` tasks, tasks are aggregated per coroutine: one lane per
/// coroutine showing how many of its tasks run, are ready and wait over time.
///
/// The SVG is well-formed XML; elements carry classes for styling and tests:
/// `g.lane[data-kind=task|thread|process|aggregate]`, `rect.run|ready|wait`
/// (`data-on` names what a wait is on), `g.mark.<kind>`.
/// In virtual-time traces, steps take no loop time: they are drawn as instants.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace timeline {

/// A trace file that cannot be read or is not a trace: says which file, where and why.
class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class LaneKind { task, thread, process };
enum class SpanKind { run, ready, wait };

struct Span {
  double t0 = 0, t1 = 0;  // seconds from the trace's start
  SpanKind kind = SpanKind::run;
  std::string name;    // step, ready, or what the wait is on
  std::string detail;  // the repr of what it waits on
};

struct Mark {
  double t = 0;
  std::string name;  // created, cancel requested, returned, raised, cancelled
  std::string detail;
};

struct Lane {
  std::uint64_t id = 0;
  LaneKind kind = LaneKind::task;
  std::string name;
  std::vector<Span> spans;
  std::vector<Mark> marks;
};

struct Trace {
  bool virtual_clock = false;
  double end = 0;           // seconds: the last thing that happened
  std::vector<Lane> lanes;  // tasks in creation order, then threads, then processes
};

/// Parses the JSON text of a trace; `source` names it in errors.
Trace parse_trace(std::string_view json, const std::string& source = "trace");
/// Reads and parses a trace file.
Trace load_trace(const std::string& path);

struct SvgOptions {
  int width = 960;                   // pixels
  std::size_t max_task_lanes = 200;  // beyond this, tasks are aggregated per coroutine
  std::string title;
  /// Seconds the time axis covers; 0: the trace's own end. Give the pictures
  /// of one table the same span (shared_span) so that their lengths compare at
  /// a glance; a span shorter than the trace is widened to the trace's end.
  double span = 0;
};

/// The span that covers every one of `traces`: the SvgOptions::span of pictures
/// drawn on one shared time axis.
double shared_span(const std::vector<Trace>& traces);

/// The standalone SVG document of `trace` (`data-span` on the root element
/// gives the seconds its axis covers). std::invalid_argument when
/// `options.span` is negative or not finite.
std::string render_svg(const Trace& trace, const SvgOptions& options = {});

/// Escapes text for XML content and attribute values.
std::string xml_escape(std::string_view text);

}  // namespace timeline
