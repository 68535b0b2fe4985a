// `asyncio-tour report` (tools/tour/report.hpp): the page is well-formed and
// shows every example with its verdict and timeline, the cpu timelines, and the
// io table and timelines;
// headless Chromium opens it, its script sets the "drawn" flag, and the
// screenshot (kept as build/report-test/screenshot.png) is not blank.
#include <gtest/gtest.h>
#include <png.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "xml_lite.hpp"

namespace fs = std::filesystem;
using xml_lite::Element;

namespace {

struct Output {
  std::string out;
  int status;
};

Output run(const std::string& cmd) {
  Output o{"", -1};
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return o;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.out.append(buf, n);
  int raw = pclose(p);
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  return o;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

const fs::path kDir = fs::path(ASYNCIO_BUILD_DIR) / "report-test";

// The report is written once for all the tests here (a few seconds).
const std::string& report_path() {
  static const std::string path = [] {
    fs::remove_all(kDir);
    std::string cmd = "'" + (fs::path(ASYNCIO_BUILD_DIR) / "asyncio-tour").string() + "' report --out '" +
                      kDir.string() +
                      "' --examples lock taskgroup errors --cpu-n 300 --cpu-count 4 --no-python "
                      "--timeline-n 4000 --timeline-jobs 3 --io-n 6 --io-ways threads,asyncio --io-scale 0 "
                      "--io-latency 0.05 --io-timeline-n 12 2>/dev/null";
    Output o = run(cmd);
    EXPECT_EQ(o.status, 0) << o.out;
    EXPECT_EQ(o.out, "The report: " + (kDir / "index.html").string() + "\n");
    return (kDir / "index.html").string();
  }();
  return path;
}

std::vector<const Element*> all(const Element& root, const std::string& tag, const std::string& cls = {}) {
  return root.find_all([&](const Element& e) { return e.tag == tag && (cls.empty() || e.has_class(cls)); });
}

const Element* by_id(const Element& root, const std::string& id) {
  auto found = root.find_all([&](const Element& e) { return e.attr("id") == id; });
  return found.empty() ? nullptr : found.front();
}

std::set<std::string> lane_kinds(const Element& figure) {
  std::set<std::string> kinds;
  for (auto* g : all(figure, "g", "lane")) kinds.insert(g->attr("data-kind"));
  return kinds;
}

TEST(TourReport, IsWellFormedAndShowsEachExampleWithItsVerdictOutputAndTimeline) {
  auto doc = xml_lite::parse(read_file(report_path()), /*html=*/true);
  auto articles = all(*doc, "article", "example");
  ASSERT_EQ(articles.size(), 3u);
  std::map<std::string, std::string> verdicts;
  for (auto* a : articles) {
    auto spans = all(*a, "span", "verdict");
    ASSERT_EQ(spans.size(), 1u);
    verdicts[a->attr("id")] = spans[0]->text;
    EXPECT_EQ(all(*a, "figure", "timeline").size(), 1u) << a->attr("id");
    EXPECT_EQ(all(*a, "svg").size(), 1u);
    EXPECT_TRUE(fs::exists(kDir / (a->attr("id").substr(3) + ".svg")));
  }
  EXPECT_EQ(verdicts["ex-lock"], "same output as Python");
  EXPECT_EQ(verdicts["ex-errors"], "same output as Python");  // stdout only; exits 1 like its twin
  EXPECT_EQ(verdicts["ex-taskgroup"], "no Python twin");
  const Element* lock = by_id(*doc, "ex-lock");
  ASSERT_NE(lock, nullptr);
  auto pres = all(*lock, "pre");
  ASSERT_FALSE(pres.empty());
  EXPECT_EQ(pres[0]->text, read_file(fs::path(ASYNCIO_SOURCE_DIR) / "examples/expected/lock.out"));
  const Element* summary = by_id(*doc, "summary");
  ASSERT_NE(summary, nullptr);
  EXPECT_EQ(summary->text, "3 examples: 2 with the same output as Python, 0 differ, 1 without a twin to compare with.");
}

TEST(TourReport, ShowsTheCpuTableWithTheLoopThreadsAndProcessesTimelines) {
  auto doc = xml_lite::parse(read_file(report_path()), true);
  const Element* cpu = by_id(*doc, "cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_GE(all(*cpu, "tr").size(), 5u);  // header and one row per way of running
  // The same table as Markdown for the tutorial (tools/docs.py --figures): a header,
  // its rule and the same rows, one Markdown row per HTML row.
  std::string md = read_file(kDir / "cpu.md");
  std::size_t md_rows = 0;
  for (std::size_t i = 0; (i = md.find("\n|", i)) != std::string::npos; ++i) ++md_rows;
  EXPECT_EQ(md_rows, all(*cpu, "tr").size() + 1) << md;
  EXPECT_NE(md.find("| way | C++ seconds | speed-up |"), std::string::npos) << md;
  auto figures = all(*cpu, "figure", "timeline");
  ASSERT_EQ(figures.size(), 3u);
  EXPECT_EQ(lane_kinds(*figures[0]), (std::set<std::string>{"task"}));
  // One thread interleaving: the tasks wait ready while another runs.
  EXPECT_FALSE(all(*figures[0], "rect", "ready").empty());
  EXPECT_EQ(lane_kinds(*figures[1]), (std::set<std::string>{"task", "thread"}));
  EXPECT_EQ(lane_kinds(*figures[2]), (std::set<std::string>{"task", "process"}));
  for (auto* f : figures) EXPECT_FALSE(all(*f, "rect", "run").empty());
  // The three pictures of the table share one time axis (SvgOptions::span), so
  // that their lengths compare at a glance.
  std::set<std::string> spans;
  for (auto* f : figures) {
    auto svgs = all(*f, "svg");
    ASSERT_EQ(svgs.size(), 1u);
    spans.insert(svgs[0]->attr("data-span"));
  }
  EXPECT_EQ(spans.size(), 1u) << "one time axis for the cpu table's timelines";
}

std::vector<const Element*> lanes_of(const Element& figure, const std::string& kind) {
  return figure.find_all([&](const Element& e) { return e.tag == "g" && e.has_class("lane") && e.attr("data-kind") == kind; });
}

// The [start, end) of each rect.CLS in `lane`, in SVG x units.
std::vector<std::pair<double, double>> spans_of(const Element& lane, const std::string& cls) {
  std::vector<std::pair<double, double>> out;
  for (auto* r : all(lane, "rect", cls)) {
    double x = std::stod(r->attr("x"));
    out.emplace_back(x, x + std::stod(r->attr("width")));
  }
  return out;
}

// The io table has the four ways as rows; the report measured only the two it was asked
// for (--io-ways threads,asyncio), and says "-" for the others.
TEST(TourReport, ShowsTheIoTableWithTheFourWays) {
  auto doc = xml_lite::parse(read_file(report_path()), true);
  const Element* io = by_id(*doc, "io");
  ASSERT_NE(io, nullptr);
  auto tables = all(*io, "table");
  ASSERT_EQ(tables.size(), 1u);
  std::vector<std::string> ways;
  std::map<std::string, std::string> seconds;
  for (auto* tr : all(*tables[0], "tr")) {
    auto tds = all(*tr, "td");
    if (tds.empty()) continue;  // the header
    ASSERT_EQ(tds.size(), 3u);  // way, C++ seconds, speed-up (--no-python: no CPython columns)
    ways.push_back(tds[0]->text);
    seconds[tds[0]->text] = tds[1]->text;
  }
  EXPECT_EQ(ways, (std::vector<std::string>{"Sync", "Thread pool", "Process pool", "asyncio"}));
  EXPECT_EQ(seconds["Sync"], "-");
  EXPECT_EQ(seconds["Process pool"], "-");
  for (const char* measured : {"Thread pool", "asyncio"}) {
    ASSERT_FALSE(seconds[measured].empty());
    EXPECT_GT(std::stod(seconds[measured]), 0.0) << measured;
  }
  EXPECT_EQ(by_id(*doc, "io-scale"), nullptr);  // --io-scale 0
  EXPECT_EQ(all(*io, "pre").size(), 0u);        // no run failed
  // The same table as Markdown for the tutorial's figure io-table.
  std::string md = read_file(kDir / "io.md");
  EXPECT_NE(md.find("| way | C++ seconds | speed-up |\n|---|---|---|\n| Sync | - | - |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("\n| asyncio | " + seconds["asyncio"] + " |"), std::string::npos) << md;
}

// asyncio: the 12 downloads are tasks on the loop's thread that all wait at once;
// the thread pool: no download task, the pool's threads each run downloads, side by side.
TEST(TourReport, ShowsTheIoTimelinesDownloadsOverlappingOnTheLoopAndSideBySideInThreads) {
  auto doc = xml_lite::parse(read_file(report_path()), true);
  const Element* io = by_id(*doc, "io");
  ASSERT_NE(io, nullptr);
  auto figures = all(*io, "figure", "timeline");
  ASSERT_EQ(figures.size(), 2u);
  EXPECT_TRUE(fs::exists(kDir / "io-asyncio.svg"));
  EXPECT_TRUE(fs::exists(kDir / "io-threads.svg"));

  EXPECT_EQ(lane_kinds(*figures[0]), (std::set<std::string>{"task"}));
  auto tasks = lanes_of(*figures[0], "task");
  ASSERT_EQ(tasks.size(), 13u);  // the main task and one per download
  // Some moment lies inside a wait of every download: they all waited at the same time.
  double latest_start = 0, earliest_end = 1e9;
  for (std::size_t i = 1; i < tasks.size(); ++i) {
    auto waits = spans_of(*tasks[i], "wait");
    ASSERT_FALSE(waits.empty()) << "download " << i;
    auto longest = *std::max_element(waits.begin(), waits.end(), [](auto& a, auto& b) {
      return a.second - a.first < b.second - b.first;
    });
    latest_start = std::max(latest_start, longest.first);
    earliest_end = std::min(earliest_end, longest.second);
  }
  EXPECT_LT(latest_start, earliest_end) << "the downloads' waits do not overlap";

  EXPECT_EQ(lane_kinds(*figures[1]), (std::set<std::string>{"task", "thread"}));
  EXPECT_EQ(lanes_of(*figures[1], "task").size(), 1u);  // only main: the downloads are jobs
  auto threads = lanes_of(*figures[1], "thread");
  ASSERT_GE(threads.size(), 2u);
  std::vector<std::pair<double, double>> jobs;
  std::size_t busy_threads = 0;
  for (auto* t : threads) {
    auto runs = spans_of(*t, "run");
    busy_threads += runs.empty() ? 0 : 1;
    jobs.insert(jobs.end(), runs.begin(), runs.end());
  }
  EXPECT_EQ(jobs.size(), 12u);  // one job per download
  EXPECT_GE(busy_threads, 2u);
  // Side by side: two threads' jobs run at the same time.
  bool overlap = false;
  for (std::size_t a = 0; a < threads.size() && !overlap; ++a)
    for (std::size_t b = a + 1; b < threads.size() && !overlap; ++b)
      for (auto& x : spans_of(*threads[a], "run"))
        for (auto& y : spans_of(*threads[b], "run")) overlap = overlap || (x.first < y.second && y.first < x.second);
  EXPECT_TRUE(overlap) << "no two threads ran a download at the same time";
}

// The tutorial's chapters (docs/N_*.md) rendered by md4c next to the report, linked from
// its nav, with this report's figures: the cpu table it measured, the timeline of an
// example it ran, and a note for an example it did not run (await_tasks).
TEST(TourReport, RendersTheTutorialChaptersWithTheReportsOwnFigures) {
  auto doc = xml_lite::parse(read_file(report_path()), true);
  const Element* nav = by_id(*doc, "tutorial");
  ASSERT_NE(nav, nullptr);
  std::vector<std::string> files;
  for (auto* a : all(*nav, "a", "chapter")) files.push_back(a->attr("href"));
  std::vector<std::string> expected;
  for (const auto& e : fs::directory_iterator(fs::path(ASYNCIO_SOURCE_DIR) / "docs"))
    if (std::isdigit(static_cast<unsigned char>(e.path().filename().string()[0])) && e.path().extension() == ".md")
      expected.push_back("tutorial/" + e.path().stem().string() + ".html");
  std::sort(expected.begin(), expected.end());
  ASSERT_GE(expected.size(), 4u);
  EXPECT_EQ(files, expected);
  for (const auto& f : files) ASSERT_TRUE(fs::exists(kDir / f)) << f;

  auto concepts = xml_lite::parse(read_file(kDir / "tutorial/1_concepts.html"), true);
  auto tables = all(*concepts, "table");
  ASSERT_EQ(tables.size(), 2u);  // the io and cpu tables, from this report's io.md and cpu.md
  EXPECT_EQ(all(*tables[0], "tr").size(), all(*by_id(*doc, "io"), "tr").size());
  EXPECT_EQ(all(*tables[1], "tr").size(), all(*by_id(*doc, "cpu"), "tr").size());
  std::string concepts_html = read_file(kDir / "tutorial/1_concepts.html");
  EXPECT_NE(concepts_html.find("<img src=\"../io-asyncio.svg\""), std::string::npos);
  EXPECT_NE(concepts_html.find("<img src=\"../io-threads.svg\""), std::string::npos);
  // factorial.cpp, spliced by tools/docs.py, is one of the chapter's C++ blocks, verbatim.
  const std::string factorial = read_file(fs::path(ASYNCIO_SOURCE_DIR) / "examples/factorial.cpp");
  auto code = all(*concepts, "code", "language-cpp");
  EXPECT_EQ(std::count_if(code.begin(), code.end(), [&](const Element* c) { return c->text == factorial; }), 1);

  std::string asyncio_html = read_file(kDir / "tutorial/2_asyncio.html");
  EXPECT_NE(asyncio_html.find("<img src=\"../taskgroup.svg\""), std::string::npos);  // ran: its timeline
  EXPECT_EQ(asyncio_html.find("../await_tasks.svg"), std::string::npos);             // not run: a note
  EXPECT_NE(asyncio_html.find("Figure timeline-await_tasks: not measured by this report"), std::string::npos);
  EXPECT_EQ(asyncio_html.find("figures/"), std::string::npos);  // never the figures measured elsewhere
  EXPECT_NE(asyncio_html.find("href=\"3_sync_primitives.html\""), std::string::npos);
  // Headings carry GitHub's anchors, so the chapters' #links work in the report too.
  EXPECT_NE(asyncio_html.find("href=\"#c-coroutine-pitfalls\""), std::string::npos);
  EXPECT_NE(asyncio_html.find("<h2 id=\"c-coroutine-pitfalls\">C++ coroutine pitfalls</h2>"), std::string::npos);
}

// Counts the pixels of an RGB(A) PNG that are clearly coloured (not white or grey).
std::size_t coloured_pixels(const fs::path& png_path, std::size_t* total) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, png_path.c_str())) return 0;
  image.format = PNG_FORMAT_RGB;
  std::vector<unsigned char> px(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, px.data(), 0, nullptr)) return 0;
  *total = static_cast<std::size_t>(image.width) * image.height;
  std::size_t n = 0;
  for (std::size_t i = 0; i + 2 < px.size(); i += 3) {
    int hi = std::max({px[i], px[i + 1], px[i + 2]}), lo = std::min({px[i], px[i + 1], px[i + 2]});
    if (hi - lo > 60) ++n;
  }
  return n;
}

TEST(TourReport, RendersInHeadlessChromium) {
  const std::string chromium = "/usr/bin/chromium";
  ASSERT_TRUE(fs::exists(chromium)) << "install chromium (tools/install-deps.sh)";
  const std::string page = "file://" + report_path();
  const std::string flags = " --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir='" +
                            (kDir / "chromium-profile").string() + "' --virtual-time-budget=5000 ";
  Output dom = run("timeout 120 " + chromium + flags + "--dump-dom '" + page + "' 2>/dev/null");
  ASSERT_EQ(dom.status, 0);
  // The page's script counted every timeline laid out: 3 examples + 3 cpu + 2 io.
  EXPECT_NE(dom.out.find("data-report-ready=\"8\""), std::string::npos) << dom.out.substr(0, 300);

  // A phone-sized screenshot, kept as an artifact of the build.
  const fs::path shot = kDir / "screenshot.png";
  Output s = run("timeout 120 " + chromium + flags + "--window-size=412,1800 --screenshot='" + shot.string() + "' '" +
                 page + "' 2>/dev/null");
  ASSERT_EQ(s.status, 0);
  ASSERT_TRUE(fs::exists(shot));
  std::size_t total = 0, coloured = coloured_pixels(shot, &total);
  EXPECT_EQ(total, 412u * 1800u);
  // Not blank: the timelines' bars are drawn (well over a thousand coloured pixels).
  EXPECT_GT(coloured, 1000u) << "of " << total;
}

}  // namespace
