// Chrome Trace Event Format writer (see trace.hpp).
#include "asyncio/trace.hpp"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

namespace asyncio::detail {

void Tracer::lane_name(std::uint64_t lane, std::string name) {
  std::lock_guard lock(mutex_);
  events_.push_back(Event{'M', lane, 0, 0, std::move(name)});
}

void Tracer::instant(std::uint64_t lane, std::int64_t ts_ns, std::string name) {
  std::lock_guard lock(mutex_);
  events_.push_back(Event{'i', lane, ts_ns, 0, std::move(name)});
}

void Tracer::slice(std::uint64_t lane, std::int64_t ts_ns, std::int64_t dur_ns, std::string name) {
  std::lock_guard lock(mutex_);
  events_.push_back(Event{'X', lane, ts_ns, dur_ns, std::move(name)});
}

std::vector<Tracer::Event> Tracer::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

bool Tracer::write() const {
  std::lock_guard lock(mutex_);
  std::int64_t t0 = 0;
  bool first = true;
  for (const auto& e : events_) {
    if (e.phase == 'M') continue;
    if (first || e.ts_ns < t0) t0 = e.ts_ns;
    first = false;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : events_) {
    nlohmann::json j{{"pid", 1}, {"tid", e.lane}};
    if (e.phase == 'M') {
      j["ph"] = "M";
      j["name"] = "thread_name";
      j["args"] = {{"name", e.name}};
    } else {
      j["ph"] = std::string(1, e.phase);
      j["name"] = e.name;
      j["ts"] = static_cast<double>(e.ts_ns - t0) / 1e3;
      if (e.phase == 'X') j["dur"] = static_cast<double>(e.dur_ns) / 1e3;
      if (e.phase == 'i') j["s"] = "t";
    }
    out.push_back(std::move(j));
  }
  std::ofstream f(path_);
  f << nlohmann::json{{"traceEvents", out},
                      {"displayTimeUnit", "ms"},
                      {"otherData", {{"clock", virtual_clock_ ? "virtual" : "real"}}}}
           .dump(1, ' ', false, nlohmann::json::error_handler_t::replace)
    << '\n';  // a name that is not UTF-8 (a task name is any bytes) gets U+FFFD, never an exception
  if (!f) {
    std::fprintf(stderr, "asyncio: cannot write trace file %s\n", path_.c_str());
    return false;
  }
  return true;
}

}  // namespace asyncio::detail
