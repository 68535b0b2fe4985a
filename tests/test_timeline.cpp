// The SVG timeline renderer (tools/timeline/timeline.hpp): a known trace
// renders the expected lanes, marks and waits; malformed traces get a clear error.
#include "timeline/timeline.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "xml_lite.hpp"

namespace {

using xml_lite::Element;

constexpr std::uint64_t kThread = (std::uint64_t{1} << 40) + 1;
constexpr std::uint64_t kProcess = (std::uint64_t{1} << 40) + (std::uint64_t{1} << 32) + 4242;

// What trace.hpp writes, by hand: times in microseconds.
nlohmann::json known_trace() {
  using nlohmann::json;
  auto name = [](std::uint64_t tid, const char* n) {
    return json{{"pid", 1}, {"tid", tid}, {"ph", "M"}, {"name", "thread_name"}, {"args", {{"name", n}}}};
  };
  auto x = [](std::uint64_t tid, double ts, double dur, const char* n, const char* cat, const char* on = "") {
    json j{{"pid", 1}, {"tid", tid}, {"ph", "X"}, {"ts", ts}, {"dur", dur}, {"name", n}, {"cat", cat}};
    if (*on) j["args"] = {{"on", on}};
    return j;
  };
  auto i = [](std::uint64_t tid, double ts, const char* n, const char* exc = "") {
    json j{{"pid", 1}, {"tid", tid}, {"ph", "i"}, {"ts", ts}, {"name", n}, {"s", "t"}};
    if (*exc) j["args"] = {{"exception", exc}};
    return j;
  };
  json events = json::array({
      name(1, "Task-1 main()"), i(1, 0, "created"), x(1, 0, 1000, "step", "step"),
      x(1, 1000, 1999000, "task", "wait", "<Task pending name='worker' coro=<worker()>>"),
      x(1, 2000000, 10000, "ready", "ready"), x(1, 2010000, 10000, "step", "step"), i(1, 2020000, "returned"),
      name(2, "worker worker()"), i(2, 0, "created"), x(2, 0, 1000, "ready", "ready"), x(2, 1000, 1000, "step", "step"),
      x(2, 2000, 998000, "asyncio::Lock", "wait", "<asyncio::Lock [locked, waiters:1]>"),
      x(2, 1000000, 500, "step", "step"), x(2, 1000500, 999500, "sleep", "wait", "sleep: wakes at 2.000 s"),
      x(2, 2000000, 500, "step", "step"), i(2, 2000500, "raised", "ValueError: boom"),
      name(3, "victim sleeper()"), i(3, 0, "created"), x(3, 0, 100, "step", "step"),
      x(3, 100, 499900, "asyncio::Queue get", "wait", "<Queue maxsize=0 qsize=0 _getters[1]>"),
      i(3, 500000, "cancel requested"), x(3, 500000, 100, "step", "step"), i(3, 500100, "cancelled"),
      name(kThread, "thread pool_0"), x(kThread, 100000, 500000, "run_in_executor", "job"),
      name(kProcess, "process 4242"), x(kProcess, 200000, 700000, "tour::work", "job"),
  });
  return json{{"traceEvents", events}, {"otherData", {{"clock", "real"}}}};
}

std::unique_ptr<Element> render(const nlohmann::json& trace, timeline::SvgOptions options = {}) {
  std::string svg = timeline::render_svg(timeline::parse_trace(trace.dump()), options);
  return xml_lite::parse(svg);  // throws when the SVG is not well-formed
}

std::vector<const Element*> lanes(const Element& doc) {
  return doc.find_all([](const Element& e) { return e.tag == "g" && e.has_class("lane"); });
}

std::vector<const Element*> in_lane(const Element& lane, const std::string& tag, const std::string& cls) {
  return lane.find_all([&](const Element& e) { return e.tag == tag && e.has_class(cls); });
}

std::string label(const Element& lane) {
  for (const auto& c : lane.children)
    if (c->tag == "text") return c->text;
  return {};
}

TEST(Timeline, DrawsOneLanePerTaskThreadAndProcessInGroups) {
  auto doc = render(known_trace(), {.width = 960, .max_task_lanes = 200, .title = "known"});
  const Element& svg = *doc->children.at(0);
  EXPECT_EQ(svg.tag, "svg");
  EXPECT_EQ(svg.attr("data-aggregated"), "false");
  auto all = lanes(*doc);
  ASSERT_EQ(all.size(), 5u);
  std::vector<std::string> kinds, labels;
  for (auto* l : all) kinds.push_back(l->attr("data-kind")), labels.push_back(label(*l));
  EXPECT_EQ(kinds, (std::vector<std::string>{"task", "task", "task", "thread", "process"}));
  EXPECT_EQ(labels, (std::vector<std::string>{"Task-1 main()", "worker worker()", "victim sleeper()",
                                              "thread pool_0", "process 4242"}));
  auto groups = doc->find_all([](const Element& e) { return e.tag == "text" && e.has_class("group"); });
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0]->text, "Tasks (3) on the event loop's thread");
  EXPECT_EQ(groups[1]->text, "Executor threads (1)");
  EXPECT_EQ(groups[2]->text, "Worker processes (1)");
}

TEST(Timeline, DrawsRunningReadyAndWaitingDifferentlyAndSaysWhatAWaitIsOn) {
  auto doc = render(known_trace());
  auto all = lanes(*doc);
  const Element& main = *all[0];
  const Element& worker = *all[1];
  EXPECT_EQ(in_lane(main, "rect", "run").size(), 2u);
  auto main_ready = in_lane(main, "rect", "ready");
  ASSERT_EQ(main_ready.size(), 1u);
  EXPECT_EQ(main_ready[0]->title(), "ready, not running: 2.000 s .. 2.010 s (10.000 ms)");
  auto main_wait = in_lane(main, "rect", "wait");
  ASSERT_EQ(main_wait.size(), 1u);
  EXPECT_EQ(main_wait[0]->attr("data-on"), "task");
  EXPECT_TRUE(main_wait[0]->has_class("task"));
  EXPECT_EQ(main_wait[0]->title(),
            "waiting on task: 1.000 ms .. 2.000 s (1.999 s)\n<Task pending name='worker' coro=<worker()>>");
  // Running is a full-height bar, ready half, waiting a thin line.
  EXPECT_EQ(in_lane(main, "rect", "run")[0]->attr("height"), "12");
  EXPECT_EQ(main_ready[0]->attr("height"), "8");
  EXPECT_EQ(main_wait[0]->attr("height"), "4");

  auto worker_waits = in_lane(worker, "rect", "wait");
  ASSERT_EQ(worker_waits.size(), 2u);
  EXPECT_EQ(worker_waits[0]->attr("data-on"), "asyncio::Lock");
  EXPECT_TRUE(worker_waits[0]->has_class("lock"));
  EXPECT_NE(worker_waits[0]->title().find("<asyncio::Lock [locked, waiters:1]>"), std::string::npos);
  EXPECT_EQ(worker_waits[1]->attr("data-on"), "sleep");
  EXPECT_TRUE(worker_waits[1]->has_class("sleep"));
  auto victim_wait = in_lane(*all[2], "rect", "wait");
  ASSERT_EQ(victim_wait.size(), 1u);
  EXPECT_TRUE(victim_wait[0]->has_class("queue"));
  // A wait that lasts half the time is drawn half as wide as the plot.
  double plot = 960 - 220 - 16;
  EXPECT_NEAR(std::stod(victim_wait[0]->attr("width")), plot * 0.4999 / 2.02, 0.1);
}

TEST(Timeline, MarksCompletionExceptionsAndCancellation) {
  auto doc = render(known_trace());
  auto all = lanes(*doc);
  auto marks = [&](const Element& lane) {
    std::vector<std::string> out;
    for (auto* m : lane.find_all([](const Element& e) { return e.tag == "g" && e.has_class("mark"); }))
      out.push_back(m->attr("class"));
    return out;
  };
  EXPECT_EQ(marks(*all[0]), (std::vector<std::string>{"mark created", "mark returned"}));
  EXPECT_EQ(marks(*all[1]), (std::vector<std::string>{"mark created", "mark raised"}));
  EXPECT_EQ(marks(*all[2]), (std::vector<std::string>{"mark created", "mark cancel-requested", "mark cancelled"}));
  auto raised = all[1]->find_all([](const Element& e) { return e.has_class("raised"); });
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0]->title(), "raised at 2.001 s: ValueError: boom");
}

TEST(Timeline, HasATimeAxisWithRoundTicks) {
  auto doc = render(known_trace());
  std::vector<std::string> ticks;
  for (auto* t : doc->find_all([](const Element& e) { return e.tag == "g" && e.has_class("tick"); })) {
    for (const auto& c : t->children)
      if (c->tag == "text") ticks.push_back(c->text);
  }
  EXPECT_EQ(ticks, (std::vector<std::string>{"0 s", "0.5 s", "1 s", "1.5 s", "2 s"}));
}

// The pictures of one table share a time axis (SvgOptions::span, shared_span):
// a wait of 0.5 s is drawn as wide in a picture of a 2.02 s trace as in one of
// a 4.04 s trace when both are drawn over 4.04 s, and the axis goes to 4 s.
TEST(Timeline, PicturesOfOneTableShareATimeAxis) {
  auto twice_as_long = known_trace();
  for (auto& e : twice_as_long["traceEvents"]) {
    if (e.contains("ts")) e["ts"] = e["ts"].get<double>() * 2;
    if (e.contains("dur")) e["dur"] = e["dur"].get<double>() * 2;
  }
  auto short_trace = timeline::parse_trace(known_trace().dump());
  auto long_trace = timeline::parse_trace(twice_as_long.dump());
  double span = timeline::shared_span({short_trace, long_trace});
  EXPECT_DOUBLE_EQ(span, long_trace.end);
  EXPECT_DOUBLE_EQ(long_trace.end, 2 * short_trace.end);
  auto queue_wait_width = [&](const timeline::Trace& t, double with_span) {
    auto doc = xml_lite::parse(timeline::render_svg(t, {.width = 960, .max_task_lanes = 200, .title = "", .span = with_span}));
    EXPECT_EQ(std::stod(doc->children.at(0)->attr("data-span")), std::max(t.end, with_span));
    return std::stod(in_lane(*lanes(*doc)[2], "rect", "wait")[0]->attr("width"));
  };
  // Alone, each picture stretches its trace over the plot: the same wait looks as wide.
  EXPECT_NEAR(queue_wait_width(short_trace, 0), queue_wait_width(long_trace, 0), 0.1);
  // On the shared axis, the short trace's wait is half the long trace's.
  EXPECT_NEAR(queue_wait_width(short_trace, span) * 2, queue_wait_width(long_trace, span), 0.1);
  // A span shorter than the trace does not crop it.
  EXPECT_NEAR(queue_wait_width(long_trace, 1.0), queue_wait_width(long_trace, 0), 0.1);
  auto doc = xml_lite::parse(timeline::render_svg(short_trace, {.width = 960, .max_task_lanes = 200, .title = "", .span = span}));
  std::vector<std::string> ticks;
  for (auto* t : doc->find_all([](const Element& e) { return e.tag == "g" && e.has_class("tick"); }))
    for (const auto& c : t->children)
      if (c->tag == "text") ticks.push_back(c->text);
  EXPECT_EQ(ticks.back(), "4 s");
  EXPECT_THROW(timeline::render_svg(short_trace, {.width = 960, .max_task_lanes = 200, .title = "", .span = -1}),
               std::invalid_argument);
}

TEST(Timeline, InVirtualTimeStepsAreInstants) {
  auto trace = known_trace();
  trace["otherData"]["clock"] = "virtual";
  auto doc = render(trace);
  auto runs = in_lane(*lanes(*doc)[0], "rect", "run");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0]->attr("width"), "1.5");  // the minimum width: no loop time passed
  EXPECT_EQ(doc->children.at(0)->attr("data-clock"), "virtual");
}

TEST(Timeline, AggregatesTenThousandTasksPerCoroutine) {
  using nlohmann::json;
  json events = json::array();
  for (std::uint64_t id = 1; id <= 10000; ++id) {
    const char* coro = id % 2 ? "fetch()" : "parse()";
    double start = static_cast<double>(id % 100) * 1000;
    events.push_back({{"pid", 1}, {"tid", id}, {"ph", "M"}, {"name", "thread_name"},
                      {"args", {{"name", "Task-" + std::to_string(id) + " " + coro}}}});
    events.push_back({{"pid", 1}, {"tid", id}, {"ph", "X"}, {"ts", start}, {"dur", 10}, {"name", "step"}, {"cat", "step"}});
    events.push_back({{"pid", 1}, {"tid", id}, {"ph", "X"}, {"ts", start + 10}, {"dur", 100000}, {"name", "sleep"},
                      {"cat", "wait"}});
    events.push_back({{"pid", 1}, {"tid", id}, {"ph", "i"}, {"ts", start + 100010}, {"name", "returned"}, {"s", "t"}});
  }
  std::string svg = timeline::render_svg(timeline::parse_trace(json{{"traceEvents", events}}.dump()), {});
  auto doc = xml_lite::parse(svg);
  EXPECT_EQ(doc->children.at(0)->attr("data-aggregated"), "true");
  auto all = lanes(*doc);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->attr("data-kind"), "aggregate");
  EXPECT_EQ(all[0]->attr("data-tasks"), "5000");
  EXPECT_EQ(label(*all[0]), "fetch() × 5000");
  EXPECT_EQ(label(*all[1]), "parse() × 5000");
  EXPECT_EQ(all[0]->title().rfind("fetch() × 5000 tasks; at most about", 0), 0u) << all[0]->title();
  // Readable: a few lanes of areas, not 10,000 lanes.
  EXPECT_LT(svg.size(), 200'000u);
}

TEST(Timeline, MalformedTracesGetAClearError) {
  auto error_of = [](const std::string& text) {
    try {
      timeline::parse_trace(text, "t.json");
    } catch (const timeline::TraceError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("{\"traceEvents\": ["), "t.json: not a trace file: invalid JSON at byte 18");
  EXPECT_EQ(error_of("[1, 2]"), "t.json: not a trace file: the top level is not an object");
  EXPECT_EQ(error_of("{\"events\": []}"), "t.json: not a trace file: no \"traceEvents\" array");
  EXPECT_EQ(error_of(R"({"traceEvents": [{"tid": 1, "ph": "X", "dur": 1}]})"),
            "t.json: not a trace file: event 0 has no numeric \"ts\"");
  EXPECT_EQ(error_of(R"({"traceEvents": [{"ph": "X", "ts": 1, "dur": 1}]})"),
            "t.json: not a trace file: event 0 has no \"tid\" (a lane number)");
  EXPECT_EQ(error_of(R"({"traceEvents": [{"tid": 1, "ph": "X", "ts": 0, "dur": -5}]})"),
            "t.json: not a trace file: event 0 has a negative \"dur\"");
  EXPECT_EQ(error_of(R"({"traceEvents": [{"tid": 1, "ph": "Q", "ts": 0}]})"),
            "t.json: not a trace file: event 0 has an unknown phase \"Q\"");
  try {
    timeline::load_trace("/nonexistent/trace.json");
    FAIL() << "no error";
  } catch (const timeline::TraceError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/trace.json: cannot open the trace file");
  }
}

TEST(Timeline, EscapesNamesInTheMarkup) {
  auto trace = known_trace();
  trace["traceEvents"][0]["args"]["name"] = "Task-1 <main> & \"co\"";
  auto doc = render(trace);  // well-formed despite the name
  EXPECT_EQ(label(*lanes(*doc)[0]), "Task-1 <main> & \"co\"");
}

}  // namespace
