#include "timeline.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

namespace tour {

std::string render_timeline_text(const std::string& trace_json, int width) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(trace_json);
  } catch (const std::exception&) {
    return {};
  }
  struct Lane {
    std::string name;
    double first = -1, last = -1;
    std::vector<std::pair<double, double>> slices;
  };
  std::map<std::uint64_t, Lane> lanes;
  double t_max = 0;
  // In virtual time a step's duration is real time on a virtual axis: draw steps as instants.
  bool virtual_clock = j.contains("otherData") && j["otherData"].value("clock", "") == "virtual";
  for (const auto& e : j["traceEvents"]) {
    auto tid = e["tid"].get<std::uint64_t>();
    Lane& lane = lanes[tid];
    std::string ph = e["ph"];
    if (ph == "M") {
      lane.name = e["args"]["name"];
      continue;
    }
    std::string cat = e.value("cat", "");
    if (cat == "wait" || cat == "ready") continue;  // the SVG draws these; the text shows steps
    double ts = e["ts"].get<double>() / 1e6;
    double end = ts + (ph == "X" && !virtual_clock ? e["dur"].get<double>() / 1e6 : 0.0);
    if (ph == "X") lane.slices.emplace_back(ts, end);
    if (lane.first < 0 || ts < lane.first) lane.first = ts;
    lane.last = std::max(lane.last, end);
    t_max = std::max(t_max, end);
  }
  if (lanes.empty()) return {};
  double span = t_max > 0 ? t_max : 1.0;
  auto col = [&](double t) { return std::min(width - 1, static_cast<int>(t / span * (width - 1) + 0.5)); };
  std::size_t label = 8;
  for (auto& [id, lane] : lanes) label = std::max(label, std::min<std::size_t>(lane.name.size(), 32));
  std::string out;
  for (auto& [id, lane] : lanes) {
    std::string row(static_cast<std::size_t>(width), ' ');
    if (lane.first >= 0) {
      for (int c = col(lane.first); c <= col(lane.last); ++c) row[static_cast<std::size_t>(c)] = '.';
    }
    std::vector<bool> ran(static_cast<std::size_t>(width), false);
    for (auto [a, b] : lane.slices)
      for (int c = col(a); c <= col(b); ++c) ran[static_cast<std::size_t>(c)] = true;
    std::string line;
    for (int c = 0; c < width; ++c) line += ran[static_cast<std::size_t>(c)] ? "\u2588" : std::string(1, row[static_cast<std::size_t>(c)]);
    out += fmt::format("  {:<{}} |{}|\n", lane.name.substr(0, 32), label, line);
  }
  std::string axis(static_cast<std::size_t>(width), ' ');
  out += fmt::format("  {:<{}} 0s{:>{}}\n", "", label, fmt::format("{:.2f}s", t_max), width - 1);
  out += fmt::format("  {:<{}} \u2588 running   . waiting\n", "", label);
  return out;
}

}  // namespace tour
