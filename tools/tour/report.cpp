// `asyncio-tour report`: see report.hpp.
#include "report.hpp"

#include <fmt/core.h>

#include <filesystem>
#include <fstream>

#include "chapters.hpp"
#include "timeline/timeline.hpp"

namespace fs = std::filesystem;

namespace tour {
namespace {

using timeline::xml_escape;

const char* const kCss = R"CSS(
:root { color-scheme: light; --fg: #1f2933; --muted: #616e7c; --line: #e4e7eb; --accent: #2f6fdb; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #fff; }
main, header { max-width: 1000px; margin: 0 auto; padding: 0 16px; }
header { padding-top: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.3rem; margin: 32px 0 8px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.1rem; margin: 24px 0 4px; display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; }
nav a { margin-right: 12px; color: var(--accent); }
.verdict { font-size: 0.8rem; padding: 1px 8px; border-radius: 10px; background: #e4e7eb; }
.verdict.same { background: #d5f5e3; color: #1d6b3a; }
.verdict.differs { background: #fde2e2; color: #a61b1b; }
.verdict.no_twin, .verdict.no_expected { background: #fff3c4; color: #7a5b00; }
.timeline { margin: 8px 0; overflow-x: auto; -webkit-overflow-scrolling: touch; border: 1px solid var(--line); border-radius: 6px; }
.timeline svg { display: block; width: 100%; min-width: 640px; height: auto; }
pre { background: #f5f7fa; padding: 8px 12px; overflow-x: auto; font-size: 0.85rem; border-radius: 6px; margin: 4px 0; }
pre.diff { background: #fff5f5; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; overflow-x: auto; display: block; }
th, td { text-align: right; padding: 4px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
details summary { cursor: pointer; color: var(--muted); }
.muted { color: var(--muted); }
@media (max-width: 600px) { body { font-size: 15px; } h1 { font-size: 1.3rem; } }
)CSS";

// Sets the flag the headless-browser test reads, once every timeline is laid out.
const char* const kScript = R"JS(
(function () {
  function ready() {
    var svgs = document.querySelectorAll('figure.timeline svg');
    var drawn = 0;
    svgs.forEach(function (svg) {
      var box = svg.getBoundingClientRect();
      if (box.width > 0 && box.height > 0) drawn += 1;
    });
    document.documentElement.setAttribute('data-report-ready', String(drawn));
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
})();
)JS";

std::string verdict_class(const Verdict& v) {
  switch (v.kind) {
    case Verdict::Kind::same:
      return "same";
    case Verdict::Kind::differs:
      return "differs";
    case Verdict::Kind::no_twin:
      return "no_twin";
    case Verdict::Kind::no_expected:
      return "no_expected";
  }
  return {};
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

// A timeline in the page, also written as DIR/NAME.svg (the tutorial's figures link those).
std::string figure(const fs::path& dir, const std::string& name, const std::string& svg, const std::string& caption) {
  write_file(dir / (name + ".svg"), svg);
  return "<figure class=\"timeline\">" + svg + "</figure>\n" +
         (caption.empty() ? "" : "<p class=\"muted\">" + xml_escape(caption) + "</p>\n");
}

// The cpu table as Markdown (DIR/cpu.md), for the tutorial's figure marker
// `<!-- figure cpu-table -->` (tools/docs.py --figures DIR).
std::string cpu_markdown(const CpuReport& r) {
  std::string md = fmt::format("{} times the product 1 × 2 × … × {} on {} cores (load average {:.2f} before the "
                               "run; {}).\n\n| way | C++ seconds | speed-up |",
                               r.options.count, r.options.n - 1, r.cores, r.load_average,
                               r.results_equal ? "every way computed the same numbers" : "RESULTS DIFFER");
  md += r.python_version.empty() ? "\n|---|---|---|\n" : " CPython " + r.python_version + " seconds |\n|---|---|---|---|\n";
  double base = r.rows.empty() ? 0 : r.rows.front().seconds;
  for (const auto& row : r.rows) {
    md += fmt::format("| {} | {:.3f} | {:.2f}× |", row.name, row.seconds, row.seconds > 0 ? base / row.seconds : 0.0);
    if (!r.python_version.empty()) md += row.python_seconds ? fmt::format(" {:.3f} |", *row.python_seconds) : " - |";
    md += "\n";
  }
  return md;
}

std::string cpu_section(const ReportData& data, const fs::path& dir) {
  std::string h = "<section id=\"cpu\"><h2>CPU-bound work: concurrency is not parallelism</h2>\n";
  if (data.cpu) {
    const CpuReport& r = *data.cpu;
    h += fmt::format("<p>{} times the product 1 × 2 × … × {} on {} cores ({}).</p>\n", r.options.count,
                     r.options.n - 1, r.cores, r.results_equal ? "every way computed the same numbers" : "RESULTS DIFFER");
    h += "<table><thead><tr><th>way</th><th>C++ seconds</th><th>speed-up</th>";
    if (!r.python_version.empty()) h += "<th>CPython " + xml_escape(r.python_version) + " seconds</th>";
    h += "</tr></thead><tbody>\n";
    double base = r.rows.empty() ? 0 : r.rows.front().seconds;
    for (const auto& row : r.rows) {
      h += fmt::format("<tr><td>{}</td><td>{:.3f}</td><td>{:.2f}×</td>", xml_escape(row.name), row.seconds,
                       row.seconds > 0 ? base / row.seconds : 0.0);
      if (!r.python_version.empty())
        h += row.python_seconds ? fmt::format("<td>{:.3f}</td>", *row.python_seconds) : "<td>-</td>";
      h += "</tr>\n";
    }
    h += "</tbody></table>\n";
    write_file(dir / "cpu.md", cpu_markdown(r));
    if (!r.python_note.empty()) h += "<p class=\"muted\">" + xml_escape(r.python_note) + "</p>\n";
  }
  if (data.cpu_timelines) {
    const CpuTimelines& t = *data.cpu_timelines;
    h += "<h3>Who ran where</h3>\n";
    h += figure(dir, "cpu-loop", t.loop,
                "Coroutines alone: one thread; each task runs a slice, then waits ready (orange) while the "
                "others take their turn. Concurrent, not parallel.");
    h += figure(dir, "cpu-threads", t.threads, "A thread pool: jobs run side by side on the pool's threads.");
    h += figure(dir, "cpu-processes", t.processes, "A process pool: one worker process per core, in parallel.");
  }
  return h + "</section>\n";
}

// The io table's cells, header first: each way in C++ and, when measured, in CPython, with
// its speed-up over one after another ("-" for a way not measured).
std::vector<std::vector<std::string>> io_cells(const IoReport& r) {
  const bool py = r.python_note.empty();
  std::vector<std::vector<std::string>> rows{{"way", "C++ seconds", "speed-up"}};
  if (py) rows[0].insert(rows[0].end(), {"CPython seconds", "speed-up"});
  auto cells = [](const std::optional<double>& s, const std::optional<double>& sync) {
    std::vector<std::string> out{s ? fmt::format("{:.2f}", *s) : "-"};
    out.push_back(s && sync && *s > 0 ? fmt::format("{:.1f}×", *sync / *s) : "-");
    return out;
  };
  const IoRow& sync = r.rows.front();
  for (const auto& row : r.rows) {
    std::vector<std::string> line{row.name};
    for (auto& c : cells(row.seconds, sync.seconds)) line.push_back(std::move(c));
    if (py)
      for (auto& c : cells(row.python_seconds, sync.python_seconds)) line.push_back(std::move(c));
    rows.push_back(std::move(line));
  }
  return rows;
}

std::string io_caption(const IoReport& r) {
  return fmt::format("{} downloads from a server on 127.0.0.1 that answers each after {:.0f} ms (load average {:.2f} "
                     "before the run).",
                     r.options.n, r.options.latency * 1000, r.load_average);
}

std::string io_scale_text(const IoReport& r) {
  if (!r.scale) return {};
  const int rounds = (r.options.scale_n + r.options.scale_limit - 1) / r.options.scale_limit;
  std::string text = fmt::format("Scale: {} downloads with asyncio, at most {} at once: ", r.options.scale_n,
                                 r.options.scale_limit);
  text += r.scale->seconds ? fmt::format("{:.2f} s in C++", *r.scale->seconds) : "not measured in C++";
  if (r.scale->python_seconds) text += fmt::format(", {:.2f} s in CPython", *r.scale->python_seconds);
  return text + fmt::format(" (the floor is {} rounds of {:.0f} ms: {:.2f} s).", rounds, r.options.latency * 1000,
                            rounds * r.options.latency);
}

// The io table as Markdown (DIR/io.md), for the tutorial's figure marker `<!-- figure io-table -->`.
std::string io_markdown(const IoReport& r) {
  auto rows = io_cells(r);
  std::string md = io_caption(r) + "\n\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    md += "|";
    for (const auto& c : rows[i]) md += " " + c + " |";
    md += "\n";
    if (i == 0) {
      md += "|";
      for (std::size_t c = 0; c < rows[0].size(); ++c) md += "---|";
      md += "\n";
    }
  }
  if (r.scale) md += "\n" + io_scale_text(r) + "\n";
  if (!r.python_note.empty()) md += "\n(" + r.python_note + ")\n";
  return md;
}

std::string io_section(const ReportData& data, const fs::path& dir) {
  std::string h = "<section id=\"io\"><h2>I/O-bound work: waiting is not working</h2>\n";
  if (data.io) {
    const IoReport& r = *data.io;
    h += "<p>" + xml_escape(io_caption(r)) + "</p>\n<table><thead><tr>";
    auto rows = io_cells(r);
    for (const auto& c : rows[0]) h += "<th>" + xml_escape(c) + "</th>";
    h += "</tr></thead><tbody>\n";
    for (std::size_t i = 1; i < rows.size(); ++i) {
      h += "<tr>";
      for (const auto& c : rows[i]) h += "<td>" + xml_escape(c) + "</td>";
      h += "</tr>\n";
    }
    h += "</tbody></table>\n";
    if (r.scale) h += "<p id=\"io-scale\">" + xml_escape(io_scale_text(r)) + "</p>\n";
    if (!r.python_note.empty()) h += "<p class=\"muted\">" + xml_escape(r.python_note) + "</p>\n";
    for (const auto& e : r.errors) h += "<pre class=\"diff\">" + xml_escape(e) + "</pre>\n";
    write_file(dir / "io.md", io_markdown(r));
  }
  if (data.io_timelines) {
    const IoTimelines& t = *data.io_timelines;
    h += "<h3>Who waited where</h3>\n";
    h += figure(dir, "io-asyncio", t.asyncio,
                "asyncio: one thread; every download is a task, and all of them wait for the server at the same "
                "time (thin bars), so the whole run takes about one latency.");
    h += figure(dir, "io-threads", t.threads,
                "A thread pool: each thread is blocked in one download at a time; the downloads go through the "
                "few threads in rounds.");
  }
  return h + "</section>\n";
}

std::string example_article(const ExampleRun& r, const fs::path& dir) {
  std::string h = fmt::format("<article id=\"ex-{0}\" class=\"example\" data-verdict=\"{1}\">\n<h3>{0} "
                              "<span class=\"verdict {1}\">{2}</span><span class=\"muted\">{3:.2f} s, exit {4}</span></h3>\n",
                              xml_escape(r.name), verdict_class(r.verdict),
                              xml_escape(r.built ? r.verdict.summary() : "not built"), r.seconds, r.status);
  if (!r.trace_json.empty()) {
    try {
      std::string svg = timeline::render_svg(timeline::parse_trace(r.trace_json, r.name + ".json"),
                                             {.width = 960, .max_task_lanes = 200, .title = r.name});
      h += figure(dir, r.name, svg, "");
    } catch (const timeline::TraceError& e) {
      h += "<p class=\"muted\">no timeline: " + xml_escape(e.what()) + "</p>\n";
    }
  }
  h += "<details open=\"open\"><summary>stdout</summary><pre>" + xml_escape(r.out) + "</pre></details>\n";
  if (!r.err.empty()) h += "<details><summary>stderr</summary><pre>" + xml_escape(r.err) + "</pre></details>\n";
  if (r.verdict.kind == Verdict::Kind::differs)
    h += "<details open=\"open\"><summary>diff (- Python's output, + ours)</summary><pre class=\"diff\">" +
         xml_escape(r.verdict.diff) + "</pre></details>\n";
  return h + "</article>\n";
}

}  // namespace

std::string write_report(const std::string& dir_name, const ReportData& data) {
  fs::path dir(dir_name);
  fs::create_directories(dir);
  int same = 0, differs = 0, other = 0;
  for (const auto& r : data.examples)
    (r.verdict.kind == Verdict::Kind::same ? same : r.verdict.kind == Verdict::Kind::differs ? differs : other) += 1;
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"
       "<title>asyncio for C++: the tour</title><style>";
  h += kCss;
  h += "</style></head>\n<body>\n<header><h1>asyncio for C++: the tour</h1>\n";
  h += fmt::format("<p id=\"summary\">{} examples: {} with the same output as Python, {} differ, {} without a twin "
                   "to compare with.</p>\n",
                   data.examples.size(), same, differs, other);
  h += "<nav>";
  if (data.cpu || data.cpu_timelines) h += "<a href=\"#cpu\">CPU-bound</a>";
  if (data.io || data.io_timelines) h += "<a href=\"#io\">I/O-bound</a>";
  h += "<a href=\"#examples\">Examples</a>";
  // The tutorial's chapters, rendered with this report's figures (chapters.hpp): after the
  // sections, which write the figures (DIR/cpu.md, DIR/NAME.svg) that the chapters show.
  std::string sections;
  if (!data.cpu) fs::remove(dir / "cpu.md");  // an earlier report's table is not this one's
  if (!data.io) fs::remove(dir / "io.md");
  if (data.cpu || data.cpu_timelines) sections += cpu_section(data, dir);
  if (data.io || data.io_timelines) sections += io_section(data, dir);
  sections += "<section id=\"examples\"><h2>Examples: the talk's programs in C++</h2>\n";
  for (const auto& r : data.examples) sections += example_article(r, dir);
  if (!data.not_run.empty()) {
    sections += "<p>Not run here:</p>\n<ul id=\"not-run\">\n";
    for (const auto& [name, why] : data.not_run)
      sections += "<li><code>" + xml_escape(name) + "</code>: " + xml_escape(why) + "</li>\n";
    sections += "</ul>\n";
  }
  sections += "</section>\n";
  std::string chapter_links;
  for (const auto& c : render_chapters(ASYNCIO_SOURCE_DIR "/docs", dir.string(), ASYNCIO_SOURCE_DIR))
    chapter_links += "<a class=\"chapter\" href=\"" + xml_escape(c.file) + "\">" + xml_escape(c.title) + "</a>";
  if (!chapter_links.empty()) h += "<span id=\"tutorial\">Tutorial: " + chapter_links + "</span>";
  h += "</nav>\n<p class=\"muted\">Timelines: blue bars run, orange bars are "
       "ready but waiting for the thread, thin bars wait (their colour says on what); hover for details.</p>\n"
       "</header>\n<main>\n";
  h += sections;
  h += "</main>\n<script>";
  h += kScript;
  h += "</script>\n</body></html>\n";
  fs::path index = dir / "index.html";
  write_file(index, h);
  return fs::absolute(index).string();
}

std::vector<std::pair<std::string, std::string>> examples_not_run_here() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& name : example_names(ExamplesOptions{}))
    if (std::string why = not_standalone(name); !why.empty()) out.emplace_back(name, why);
  return out;
}

void add_report_command(CLI::App& app, std::function<void(const ReportOptions&)>& run) {
  auto o = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand("report", "Write everything the tour shows as DIR/index.html (tables, SVG timelines)");
  cmd->add_option("--out", o->out_dir, "Directory of the report")->required();
  cmd->add_option("--examples", o->examples, "Examples to include (default: all)");
  cmd->add_flag("!--no-cpu", o->cpu, "Leave out the cpu table and its timelines");
  cmd->add_option("--cpu-n", o->cpu_options.n, "cpu table: factorial size")->capture_default_str();
  cmd->add_option("--cpu-count", o->cpu_options.count, "cpu table: how many factorials")->capture_default_str();
  cmd->add_flag("!--no-python", o->cpu_options.python, "cpu and io tables: do not measure CPython");
  cmd->add_option("--timeline-n", o->timeline_n, "cpu timelines: factorial size of each job")->capture_default_str();
  cmd->add_option("--timeline-jobs", o->timeline_jobs, "cpu timelines: number of jobs")->capture_default_str();
  cmd->add_flag("!--no-io", o->io, "Leave out the io table and its timelines");
  cmd->add_option("--io-n", o->io_options.n, "io table: downloads per way")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));
  cmd->add_option("--io-ways", o->io_options.ways, "io table: the ways to measure (the slow ones: sync, processes)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::IsMember({"sync", "threads", "processes", "asyncio"}));
  cmd->add_option("--io-scale", o->io_options.scale_n, "io table: downloads of the scale run (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1'000'000));
  cmd->add_option("--io-latency", o->io_options.latency, "io: seconds the server waits before answering")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--io-timeline-n", o->io_timeline_n, "io timelines: downloads in each")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000));
  cmd->callback([o, &run] {
    o->io_options.python = o->cpu_options.python;
    run(*o);
  });
}

int run_report(const ReportOptions& options) {
  ReportData data;
  ExamplesOptions eo;
  eo.names = options.examples;
  if (eo.names.empty()) data.not_run = examples_not_run_here();
  for (const auto& name : example_names(eo)) {
    if (eo.names.empty() && !not_standalone(name).empty()) continue;
    fmt::print(stderr, "report: running example {}\n", name);
    data.examples.push_back(run_example(name, eo));
  }
  if (options.cpu) {
    fmt::print(stderr, "report: measuring the cpu table\n");
    data.cpu = measure_cpu(options.cpu_options);
    fmt::print(stderr, "report: tracing the cpu timelines\n");
    data.cpu_timelines = trace_cpu_timelines(options.timeline_n, options.timeline_jobs, 0);
  }
  if (options.io) {
    fmt::print(stderr, "report: measuring the io table\n");
    data.io = measure_io(options.io_options);
    fmt::print(stderr, "report: tracing the io timelines\n");
    data.io_timelines = trace_io_timelines(options.io_timeline_n, options.io_options.latency, 0);
  }
  std::string path = write_report(options.out_dir, data);
  fmt::print("The report: {}\n", path);
  for (const auto& r : data.examples)
    if (!r.verdict.ok()) return 1;
  return data.io && !data.io->ok() ? 1 : 0;
}

}  // namespace tour
