// Chrome Trace Event Format writer (see trace.hpp).
#include "asyncio/detail/trace.hpp"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

namespace asyncio::detail {
namespace {

/// `s` with every byte that does not start a well-formed UTF-8 sequence
/// replaced by U+FFFD: a task name is any bytes, a trace file is JSON.
/// (nlohmann's error_handler_t::replace does this on dump, but a build was
/// seen throwing type_error 316 all the same; doing it here is certain.)
std::string valid_utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                              : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && n == 3) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogate
    } else if (ok && n == 4) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);  // overlong, above U+10FFFF
    }
    if (ok) {
      out.append(s, i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

void Tracer::lane_name(std::uint64_t lane, std::string name) {
  std::lock_guard lock(mutex_);
  events_.push_back(Event{'M', lane, 0, 0, std::move(name), "", {}});
}

void Tracer::instant(std::uint64_t lane, std::int64_t ts_ns, std::string name, std::string detail) {
  std::lock_guard lock(mutex_);
  events_.push_back(Event{'i', lane, ts_ns, 0, std::move(name), "", std::move(detail)});
}

void Tracer::slice(std::uint64_t lane, std::int64_t ts_ns, std::int64_t dur_ns, std::string name, const char* cat,
                   std::string detail) {
  std::lock_guard lock(mutex_);
  events_.push_back(Event{'X', lane, ts_ns, dur_ns, std::move(name), cat, std::move(detail)});
}

void Tracer::task_suspended(std::uint64_t task, std::int64_t ts_ns, std::string on, std::string detail) {
  open_[task] = Open{ts_ns, -1, std::move(on), std::move(detail)};
}

void Tracer::task_ready(std::uint64_t task, std::int64_t ts_ns) {
  auto it = open_.find(task);
  if (it == open_.end()) {
    open_.emplace(task, Open{ts_ns, ts_ns, {}, {}});  // created: ready at once
  } else if (it->second.ready < 0) {
    it->second.ready = ts_ns;
  }
}

void Tracer::task_resumed(std::uint64_t task, std::int64_t ts_ns) {
  auto it = open_.find(task);
  if (it == open_.end()) return;
  Open& o = it->second;
  std::int64_t ready = o.ready < 0 ? ts_ns : o.ready;
  if (!o.on.empty()) slice(task, o.since, ready - o.since, std::move(o.on), "wait", std::move(o.detail));
  if (ready < ts_ns) slice(task, ready, ts_ns - ready, "ready", "ready");
  open_.erase(it);
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
      j["args"] = {{"name", valid_utf8(e.name)}};
    } else {
      j["ph"] = std::string(1, e.phase);
      j["name"] = valid_utf8(e.name);
      j["ts"] = static_cast<double>(e.ts_ns - t0) / 1e3;
      if (e.phase == 'X') {
        j["dur"] = static_cast<double>(e.dur_ns) / 1e3;
        if (*e.cat != '\0') j["cat"] = e.cat;
      }
      if (e.phase == 'i') j["s"] = "t";
      if (!e.detail.empty()) j["args"] = {{e.phase == 'i' ? "exception" : "on", e.detail}};
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
