// Drawing a trace as SVG (timeline.hpp).
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "timeline/timeline.hpp"

namespace timeline {
namespace {

constexpr int kLabelWidth = 220;
constexpr int kRight = 16;
constexpr int kLaneHeight = 16;
constexpr int kLaneGap = 4;
constexpr int kAggregateHeight = 44;
constexpr int kGroupHeader = 22;

const char* const kStyle = R"CSS(
  text { font: 11px system-ui, -apple-system, "Segoe UI", sans-serif; fill: #1f2933; }
  .title { font-size: 14px; font-weight: 600; }
  .group { font-size: 12px; font-weight: 600; fill: #52606d; }
  .tick line { stroke: #e4e7eb; }
  .tick text { fill: #7b8794; font-size: 10px; }
  .life { stroke: #cbd2d9; stroke-width: 1; }
  rect.run { fill: #2f6fdb; }
  g.lane[data-kind=thread] rect.run { fill: #0f9d8a; }
  g.lane[data-kind=process] rect.run { fill: #8e44ad; }
  rect.ready { fill: #f5a623; opacity: 0.85; }
  rect.wait { fill: #9aa5b1; }
  rect.wait.lock { fill: #d64545; } rect.wait.queue { fill: #8e6cc9; } rect.wait.task { fill: #3fa55b; }
  rect.wait.executor { fill: #a0522d; } rect.wait.future { fill: #2bb0b0; } rect.wait.event { fill: #e07bb5; }
  .mark.returned circle { fill: #3fa55b; } .mark.raised path { stroke: #d64545; stroke-width: 2; }
  .mark.cancelled rect { fill: #f08c00; } .mark.cancel-requested path { fill: #f08c00; }
  .mark.created line { stroke: #7b8794; }
  .agg-run { fill: #2f6fdb; } .agg-ready { fill: #f5a623; } .agg-wait { fill: #cbd2d9; }
  .legend text { font-size: 10px; }
)CSS";

std::string fmt_num(double v) { return fmt::format("{:.1f}", v); }

/// 1, 2 or 5 times a power of ten, giving about `target` ticks over `span`.
double nice_step(double span, int target) {
  if (span <= 0) return 1;
  double raw = span / target;
  double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

std::string fmt_time(double t, double step) {
  if (step >= 0.1) return fmt::format("{:g} s", std::round(t * 1e3) / 1e3);
  if (step >= 1e-4) return fmt::format("{:g} ms", std::round(t * 1e6) / 1e3);
  return fmt::format("{:g} µs", std::round(t * 1e9) / 1e3);
}

std::string fmt_duration(double d) {
  if (d >= 1) return fmt::format("{:.3f} s", d);
  if (d >= 1e-3) return fmt::format("{:.3f} ms", d * 1e3);
  return fmt::format("{:.1f} µs", d * 1e6);
}

/// The style class of a wait, from what it is on.
const char* wait_class(const std::string& on) {
  if (on == "sleep" || on == "sleep(0)") return "sleep";
  if (on.rfind("asyncio::Queue", 0) == 0) return "queue";
  if (on.rfind("asyncio::Event", 0) == 0) return "event";
  if (on.rfind("asyncio::", 0) == 0) return "lock";  // Lock, Semaphore, Condition, Barrier
  if (on == "task") return "task";
  if (on == "executor job") return "executor";
  if (on == "future") return "future";
  return "other";
}

std::string mark_class(const std::string& name) {
  std::string c = name;
  std::replace(c.begin(), c.end(), ' ', '-');
  return c;
}

struct Canvas {
  double end;
  double x0, w;
  double x(double t) const { return x0 + (end > 0 ? t / end * w : 0); }
};

void draw_mark(std::string& out, const Canvas& c, double y, const Mark& m) {
  double x = c.x(m.t);
  std::string title = fmt::format("{} at {}{}", m.name, fmt_duration(m.t), m.detail.empty() ? "" : ": " + m.detail);
  out += fmt::format(R"~(<g class="mark {}"><title>{}</title>)~", mark_class(m.name), xml_escape(title));
  double mid = y + kLaneHeight / 2.0;
  if (m.name == "returned") {
    out += fmt::format(R"~(<circle cx="{}" cy="{}" r="3.5"/>)~", fmt_num(x), fmt_num(mid));
  } else if (m.name == "raised") {
    out += fmt::format(R"~(<path d="M{0} {1} l7 7 m0 -7 l-7 7" fill="none"/>)~", fmt_num(x - 3.5), fmt_num(mid - 3.5));
  } else if (m.name == "cancelled") {
    out += fmt::format(R"~(<rect x="{}" y="{}" width="7" height="7"/>)~", fmt_num(x - 3.5), fmt_num(mid - 3.5));
  } else if (m.name == "cancel requested") {
    out += fmt::format(R"~(<path d="M{} {} l8 0 l-4 6 z"/>)~", fmt_num(x - 4), fmt_num(y));
  } else {
    out += fmt::format(R"~(<line x1="{0}" x2="{0}" y1="{1}" y2="{2}"/>)~", fmt_num(x), fmt_num(y + 2),
                       fmt_num(y + kLaneHeight - 2));
  }
  out += "</g>";
}

void draw_span(std::string& out, const Canvas& c, double y, const Span& s) {
  double x = c.x(s.t0), w = std::max(c.x(s.t1) - x, s.kind == SpanKind::run ? 1.5 : 0.5);
  std::string title;
  if (s.kind == SpanKind::run) {
    title = fmt::format("{} at {}, ran {}", s.name.empty() ? "step" : s.name, fmt_duration(s.t0),
                        fmt_duration(s.t1 - s.t0));
    out += fmt::format(R"~(<rect class="run" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>)~",
                       fmt_num(x), fmt_num(y + 2), fmt_num(w), kLaneHeight - 4, xml_escape(title));
  } else if (s.kind == SpanKind::ready) {
    title = fmt::format("ready, not running: {} .. {} ({})", fmt_duration(s.t0), fmt_duration(s.t1),
                        fmt_duration(s.t1 - s.t0));
    out += fmt::format(R"~(<rect class="ready" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>)~",
                       fmt_num(x), fmt_num(y + 4), fmt_num(w), kLaneHeight - 8, xml_escape(title));
  } else {
    title = fmt::format("waiting on {}: {} .. {} ({}){}", s.name, fmt_duration(s.t0), fmt_duration(s.t1),
                        fmt_duration(s.t1 - s.t0), s.detail.empty() ? "" : "\n" + s.detail);
    out += fmt::format(
        R"~(<rect class="wait {}" data-on="{}" x="{}" y="{}" width="{}" height="4"><title>{}</title></rect>)~",
        wait_class(s.name), xml_escape(s.name), fmt_num(x), fmt_num(y + kLaneHeight / 2.0 - 2), fmt_num(w),
        xml_escape(title));
  }
}

const char* kind_name(LaneKind k) {
  switch (k) {
    case LaneKind::task:
      return "task";
    case LaneKind::thread:
      return "thread";
    case LaneKind::process:
      return "process";
  }
  return "";
}

std::string short_label(const std::string& name) {
  if (name.size() <= 34) return name;
  return name.substr(0, 33) + "…";
}

void draw_lane(std::string& out, const Canvas& c, double y, const Lane& lane) {
  out += fmt::format(R"~(<g class="lane" data-kind="{}" data-id="{}">)~", kind_name(lane.kind), lane.id);
  out += fmt::format(R"~(<text x="8" y="{}">{}<title>{}</title></text>)~", fmt_num(y + 12),
                     xml_escape(short_label(lane.name)), xml_escape(lane.name));
  double first = c.end, last = 0;
  for (const auto& s : lane.spans) first = std::min(first, s.t0), last = std::max(last, s.t1);
  for (const auto& m : lane.marks) first = std::min(first, m.t), last = std::max(last, m.t);
  if (first <= last && lane.kind == LaneKind::task)
    out += fmt::format(R"~(<line class="life" x1="{0}" x2="{1}" y1="{2}" y2="{2}"/>)~", fmt_num(c.x(first)),
                       fmt_num(c.x(last)), fmt_num(y + kLaneHeight / 2.0));
  // Waits first, runs on top.
  for (SpanKind k : {SpanKind::wait, SpanKind::ready, SpanKind::run})
    for (const auto& s : lane.spans)
      if (s.kind == k) draw_span(out, c, y, s);
  for (const auto& m : lane.marks) draw_mark(out, c, y, m);
  out += "</g>\n";
}

/// Tasks of one coroutine, counted per time bin: running, ready, waiting.
struct Aggregate {
  std::string coro;
  std::size_t tasks = 0;
  std::vector<double> run, ready, wait;
  std::size_t raised = 0, cancelled = 0;
};

std::string coroutine_of(const std::string& lane_name) {
  auto sp = lane_name.rfind(' ');
  return sp == std::string::npos ? lane_name : lane_name.substr(sp + 1);
}

std::vector<Aggregate> aggregate(const std::vector<const Lane*>& tasks, double end, std::size_t bins) {
  std::map<std::string, std::size_t> index;
  std::vector<Aggregate> groups;
  for (const Lane* l : tasks) {
    std::string coro = coroutine_of(l->name);
    auto [it, fresh] = index.try_emplace(coro, groups.size());
    if (fresh) groups.push_back(Aggregate{coro, 0, std::vector<double>(bins), std::vector<double>(bins),
                                          std::vector<double>(bins), 0, 0});
  }
  if (groups.size() > 40) {  // too many coroutines to list: one lane for all
    index.clear();
    groups.assign(1, Aggregate{"all tasks", 0, std::vector<double>(bins), std::vector<double>(bins),
                               std::vector<double>(bins), 0, 0});
  }
  double bin = end > 0 ? end / static_cast<double>(bins) : 1;
  for (const Lane* l : tasks) {
    Aggregate& g = groups[index.empty() ? 0 : index[coroutine_of(l->name)]];
    ++g.tasks;
    for (const auto& s : l->spans) {
      auto& counts = s.kind == SpanKind::run ? g.run : s.kind == SpanKind::ready ? g.ready : g.wait;
      if (s.t1 <= s.t0) {  // an instant step: one task in that bin
        counts[std::min(bins - 1, static_cast<std::size_t>(s.t0 / bin))] += 1;
        continue;
      }
      auto b0 = static_cast<std::size_t>(s.t0 / bin), b1 = std::min(bins - 1, static_cast<std::size_t>(s.t1 / bin));
      for (std::size_t b = b0; b <= b1 && b < bins; ++b) {
        double lo = std::max(s.t0, static_cast<double>(b) * bin), hi = std::min(s.t1, static_cast<double>(b + 1) * bin);
        if (hi > lo) counts[b] += (hi - lo) / bin;
      }
    }
    for (const auto& m : l->marks) {
      if (m.name == "raised") ++g.raised;
      if (m.name == "cancelled") ++g.cancelled;
    }
  }
  return groups;
}

void draw_aggregate(std::string& out, const Canvas& c, double y, const Aggregate& g, std::size_t bins) {
  double peak = 1;
  for (std::size_t b = 0; b < bins; ++b) peak = std::max(peak, g.run[b] + g.ready[b] + g.wait[b]);
  double peak_run = *std::max_element(g.run.begin(), g.run.end());
  double peak_ready = *std::max_element(g.ready.begin(), g.ready.end());
  double peak_wait = *std::max_element(g.wait.begin(), g.wait.end());
  std::string title = fmt::format(
      "{} × {} tasks; at most about {:.0f} running, {:.0f} ready, {:.0f} waiting at once; {} raised, {} cancelled",
      g.coro, g.tasks, std::ceil(peak_run), std::ceil(peak_ready), std::ceil(peak_wait), g.raised, g.cancelled);
  out += fmt::format(R"~(<g class="lane" data-kind="aggregate" data-tasks="{}"><title>{}</title>)~", g.tasks,
                     xml_escape(title));
  out += fmt::format(R"~(<text x="8" y="{}">{} × {}</text>)~", fmt_num(y + 14), xml_escape(short_label(g.coro)), g.tasks);
  out += fmt::format(R"~(<text x="8" y="{}" class="tick">peak {:.0f}</text>)~", fmt_num(y + 28), std::ceil(peak));
  double h = kAggregateHeight - 4, bw = c.w / static_cast<double>(bins), base = y + kAggregateHeight - 2;
  // Stacked step areas: waiting at the bottom, then ready, then running.
  std::vector<double> floor(bins, 0.0);
  for (auto [series, cls] : {std::pair{&g.wait, "agg-wait"}, {&g.ready, "agg-ready"}, {&g.run, "agg-run"}}) {
    std::string d;
    for (std::size_t b = 0; b < bins; ++b) {
      double v = (*series)[b];
      if (v <= 0) continue;
      double top = base - (floor[b] + v) / peak * h, bottom = base - floor[b] / peak * h;
      d += fmt::format("M{} {}h{}V{}h-{}z", fmt_num(c.x0 + bw * static_cast<double>(b)), fmt_num(bottom),
                       fmt_num(bw), fmt_num(top), fmt_num(bw));
      floor[b] += v;
    }
    if (!d.empty()) out += fmt::format(R"~(<path class="{}" d="{}"/>)~", cls, d);
  }
  out += "</g>\n";
}

/// The legend, wrapped to `width`; returns its height.
double draw_legend(std::string& out, double y, bool aggregated, double width) {
  out += fmt::format(R"~(<g class="legend" transform="translate(8 {})">)~", fmt_num(y));
  double x = 0, row = 0;
  auto item = [&](const std::string& swatch, const char* label) {
    double w = 16 + 6.2 * static_cast<double>(std::string_view(label).size()) + 14;
    if (x > 0 && x + w > width - 16) x = 0, row += 18;
    out += fmt::format(R"~(<g transform="translate({} {})">{}<text x="16" y="9">{}</text></g>)~", fmt_num(x),
                       fmt_num(row), swatch, label);
    x += w;
  };
  item(R"~(<rect class="run" y="1" width="12" height="10"/>)~", "running");
  item(R"~(<rect class="ready" y="3" width="12" height="6"/>)~", "ready, not running");
  for (auto [cls, label] : {std::pair{"sleep", "sleep"}, {"lock", "lock"}, {"queue", "queue"}, {"event", "event"},
                            {"task", "task"}, {"executor", "executor job"}, {"future", "future"}}) {
    item(fmt::format(R"~(<rect class="wait {}" y="4" width="12" height="4"/>)~", cls), label);
  }
  if (!aggregated) {
    item(R"~(<g class="mark returned"><circle cx="6" cy="6" r="3.5"/></g>)~", "returned");
    item(R"~(<g class="mark raised"><path d="M2.5 2.5 l7 7 m0 -7 l-7 7" fill="none"/></g>)~", "raised");
    item(R"~(<g class="mark cancelled"><rect x="2.5" y="2.5" width="7" height="7"/></g>)~", "cancelled");
    item(R"~(<g class="mark cancel-requested"><path d="M2 0 l8 0 l-4 6 z"/></g>)~", "cancel requested");
  }
  out += "</g>\n";
  return row + 18;
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        // Control characters other than newline and tab are not XML.
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\n' && ch != '\t') {
          out += ' ';
        } else {
          out += ch;
        }
    }
  }
  return out;
}

double shared_span(const std::vector<Trace>& traces) {
  double span = 0;
  for (const auto& t : traces) span = std::max(span, t.end);
  return span;
}

std::string render_svg(const Trace& trace, const SvgOptions& options) {
  const int width = std::max(options.width, kLabelWidth + 200);
  if (!(options.span >= 0) || !std::isfinite(options.span))
    throw std::invalid_argument(fmt::format("SvgOptions::span must be a finite number of seconds >= 0, got {}",
                                            options.span));
  // The axis covers the shared span when one is given (never less than the trace).
  const double end = std::max(trace.end, options.span);
  Canvas c{end, static_cast<double>(kLabelWidth), static_cast<double>(width - kLabelWidth - kRight)};
  std::vector<const Lane*> tasks, threads, processes;
  for (const auto& l : trace.lanes)
    (l.kind == LaneKind::task ? tasks : l.kind == LaneKind::thread ? threads : processes).push_back(&l);
  const bool aggregated = tasks.size() > options.max_task_lanes;
  const std::size_t bins = static_cast<std::size_t>(std::max(10.0, c.w / 3));
  std::vector<Aggregate> groups;
  if (aggregated) groups = aggregate(tasks, end, bins);

  double top = options.title.empty() ? 12 : 34;
  double axis_y = top + 12;
  double y = axis_y + 8;
  std::string body;
  auto header = [&](const std::string& text) {
    body += fmt::format(R"~(<text class="group" x="8" y="{}">{}</text>)~", fmt_num(y + 15), xml_escape(text));
    y += kGroupHeader;
  };
  if (!tasks.empty()) {
    header(aggregated ? fmt::format("Tasks ({}, grouped by coroutine)", tasks.size())
                      : fmt::format("Tasks ({}) on the event loop's thread", tasks.size()));
    if (aggregated) {
      for (const auto& g : groups) {
        draw_aggregate(body, c, y, g, bins);
        y += kAggregateHeight + kLaneGap;
      }
    } else {
      for (const Lane* l : tasks) {
        draw_lane(body, c, y, *l);
        y += kLaneHeight + kLaneGap;
      }
    }
  }
  if (!threads.empty()) {
    header(fmt::format("Executor threads ({})", threads.size()));
    for (const Lane* l : threads) {
      draw_lane(body, c, y, *l);
      y += kLaneHeight + kLaneGap;
    }
  }
  if (!processes.empty()) {
    header(fmt::format("Worker processes ({})", processes.size()));
    for (const Lane* l : processes) {
      draw_lane(body, c, y, *l);
      y += kLaneHeight + kLaneGap;
    }
  }
  if (trace.lanes.empty()) {
    body += fmt::format(R"~(<text x="8" y="{}">(the trace has no events)</text>)~", fmt_num(y + 14));
    y += 20;
  }
  double plot_bottom = y;
  std::string legend;
  y += 8 + draw_legend(legend, y + 8, aggregated, width);

  std::string out;
  out += fmt::format(
      R"~(<svg xmlns="http://www.w3.org/2000/svg" class="asyncio-timeline" width="{0}" height="{1}" viewBox="0 0 {0} {1}" data-lanes="{2}" data-aggregated="{3}" data-clock="{4}" data-span="{5}">)~",
      width, fmt_num(y), trace.lanes.size(), aggregated ? "true" : "false", trace.virtual_clock ? "virtual" : "real",
      end);
  out += "\n<style>";
  out += kStyle;
  out += "</style>\n";
  out += fmt::format(R"~(<rect width="{}" height="{}" fill="#ffffff"/>)~", width, fmt_num(y));
  if (!options.title.empty())
    out += fmt::format(R"~(<text class="title" x="8" y="20">{}</text>)~", xml_escape(options.title));
  // The time axis: ticks at 1, 2 or 5 times a power of ten.
  double step = nice_step(end, std::max(2, static_cast<int>(c.w / 90)));
  out += R"~(<g class="axis">)~";
  for (int i = 0; end > 0; ++i) {
    double t = step * i;
    if (t > end * (1 + 1e-9)) break;
    double x = c.x(t);
    out += fmt::format(R"~(<g class="tick"><line x1="{0}" x2="{0}" y1="{1}" y2="{2}"/><text x="{0}" y="{3}" text-anchor="middle">{4}</text></g>)~",
                       fmt_num(x), fmt_num(axis_y), fmt_num(plot_bottom), fmt_num(axis_y - 2), fmt_time(t, step));
  }
  out += fmt::format(R"~(<text x="8" y="{}" class="tick">{} time</text>)~", fmt_num(axis_y - 2),
                     trace.virtual_clock ? "virtual" : "real");
  out += "</g>\n";
  out += body;
  out += legend;
  out += "</svg>\n";
  return out;
}

}  // namespace timeline
