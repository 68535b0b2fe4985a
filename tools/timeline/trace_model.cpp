// Reading a trace file into lanes (timeline.hpp).
#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "timeline/timeline.hpp"

namespace timeline {
namespace {

constexpr std::uint64_t kWorkerBase = std::uint64_t{1} << 40;  // trace.hpp's worker_lane
constexpr std::uint64_t kProcessBase = kWorkerBase + (std::uint64_t{1} << 32);

LaneKind kind_of(std::uint64_t tid) {
  if (tid >= kProcessBase) return LaneKind::process;
  if (tid >= kWorkerBase) return LaneKind::thread;
  return LaneKind::task;
}

[[noreturn]] void fail(const std::string& source, const std::string& why) {
  throw TraceError(source + ": not a trace file: " + why);
}

double number(const nlohmann::json& e, const char* key, const std::string& source, std::size_t index) {
  auto it = e.find(key);
  if (it == e.end() || !it->is_number())
    fail(source, fmt::format("event {} has no numeric \"{}\"", index, key));
  double v = it->get<double>();
  if (!(v >= 0) && std::string_view(key) == "dur") fail(source, fmt::format("event {} has a negative \"dur\"", index));
  return v;
}

std::string text(const nlohmann::json& e, const char* key) {
  auto it = e.find(key);
  return it != e.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace

Trace parse_trace(std::string_view json, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::parse_error& e) {
    fail(source, fmt::format("invalid JSON at byte {}", e.byte));
  }
  if (!j.is_object()) fail(source, "the top level is not an object");
  auto events = j.find("traceEvents");
  if (events == j.end() || !events->is_array()) fail(source, "no \"traceEvents\" array");
  Trace trace;
  if (auto other = j.find("otherData"); other != j.end() && other->is_object())
    trace.virtual_clock = other->value("clock", "") == "virtual";
  std::map<std::uint64_t, Lane> lanes;
  std::vector<std::uint64_t> order;  // tasks by creation
  auto lane_for = [&](std::uint64_t tid) -> Lane& {
    auto [it, fresh] = lanes.try_emplace(tid);
    if (fresh) {
      it->second.id = tid;
      it->second.kind = kind_of(tid);
      order.push_back(tid);
    }
    return it->second;
  };
  std::size_t index = 0;
  for (const auto& e : *events) {
    if (!e.is_object()) fail(source, fmt::format("event {} is not an object", index));
    auto tid_it = e.find("tid");
    if (tid_it == e.end() || !tid_it->is_number_unsigned())
      fail(source, fmt::format("event {} has no \"tid\" (a lane number)", index));
    std::string ph = text(e, "ph");
    Lane& lane = lane_for(tid_it->get<std::uint64_t>());
    if (ph == "M") {
      auto args = e.find("args");
      if (args != e.end() && args->is_object()) lane.name = args->value("name", "");
    } else if (ph == "X") {
      double t0 = number(e, "ts", source, index) / 1e6;
      double dur = number(e, "dur", source, index) / 1e6;
      std::string cat = text(e, "cat");
      std::string on;
      if (auto args = e.find("args"); args != e.end() && args->is_object()) on = args->value("on", "");
      Span s{t0, t0 + dur, SpanKind::run, text(e, "name"), on};
      if (cat == "wait") {
        s.kind = SpanKind::wait;
      } else if (cat == "ready") {
        s.kind = SpanKind::ready;
      } else if (trace.virtual_clock && lane.kind == LaneKind::task) {
        s.t1 = s.t0;  // a step's real duration on a virtual axis: an instant
      }
      trace.end = std::max(trace.end, s.t1);
      lane.spans.push_back(std::move(s));
    } else if (ph == "i" || ph == "I") {
      double t = number(e, "ts", source, index) / 1e6;
      std::string detail;
      if (auto args = e.find("args"); args != e.end() && args->is_object()) detail = args->value("exception", "");
      lane.marks.push_back(Mark{t, text(e, "name"), detail});
      trace.end = std::max(trace.end, t);
    } else {
      fail(source, fmt::format("event {} has an unknown phase \"{}\"", index, ph));
    }
    ++index;
  }
  for (LaneKind k : {LaneKind::task, LaneKind::thread, LaneKind::process}) {
    for (std::uint64_t tid : order) {
      Lane& lane = lanes[tid];
      if (lane.kind != k) continue;
      if (lane.name.empty()) lane.name = fmt::format("lane {}", tid);
      auto by_time = [](const auto& a, const auto& b) { return a.t0 < b.t0; };
      std::stable_sort(lane.spans.begin(), lane.spans.end(), by_time);
      trace.lanes.push_back(std::move(lane));
    }
  }
  std::stable_sort(trace.lanes.begin(), trace.lanes.end(), [](const Lane& a, const Lane& b) {
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.kind == LaneKind::task ? a.id < b.id : a.name < b.name;
  });
  return trace;
}

Trace load_trace(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw TraceError(path + ": cannot open the trace file");
  std::stringstream s;
  s << f.rdbuf();
  return parse_trace(s.str(), path);
}

}  // namespace timeline
