// `asyncio-tour report` (tools/tour/report.hpp): the page is well-formed and
// shows every example with its verdict and timeline and the cpu timelines;
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
                      "--timeline-n 4000 --timeline-jobs 3 2>/dev/null";
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
  ASSERT_EQ(tables.size(), 1u);  // the cpu table, from this report's cpu.md
  EXPECT_EQ(all(*tables[0], "tr").size(), all(*by_id(*doc, "cpu"), "tr").size());
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
  // The page's script counted every timeline laid out: 3 examples + 3 cpu.
  EXPECT_NE(dom.out.find("data-report-ready=\"6\""), std::string::npos) << dom.out.substr(0, 300);

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
