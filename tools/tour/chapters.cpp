// The tutorial's chapters in the report: see chapters.hpp.
#include "chapters.hpp"

#include <md4c-html.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "timeline/timeline.hpp"

namespace fs = std::filesystem;

namespace tour {
namespace {

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The report's own version of figure NAME (the names tools/docs.py knows).
std::string figure_markdown(const std::string& name, const fs::path& report) {
  std::string file = name == "cpu-table" || name == "io-table" ? name.substr(0, name.size() - 6) + ".md"
                     : name.rfind("timeline-", 0) == 0 ? name.substr(9) + ".svg"
                                                        : name + ".svg";
  if (!fs::exists(report / file))
    return "*Figure " + name + ": not measured by this report (see the report's options).*\n";
  std::string body = file.ends_with(".md") ? read_text(report / file) : "![" + name + "](../" + file + ")\n";
  return body + "\n*Figure " + name + ": measured on this machine by this report.*\n";
}

// GitHub's heading anchors (what the chapters' `#links` name): the heading's text in lower
// case, without tags or punctuation but `-` and `_`, spaces as `-`.
std::string slug(const std::string& inner_html) {
  static const std::regex tag("<[^>]*>");
  std::string text = std::regex_replace(inner_html, tag, ""), out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_') out += static_cast<char>(std::tolower(c));
    else if (c == ' ') out += '-';
  }
  return out;
}

// md4c writes headings without ids: give each its GitHub anchor.
std::string add_heading_ids(const std::string& html) {
  static const std::regex heading("<h([1-6])>([^\n]*?)</h\\1>");
  std::string out;
  auto last = html.cbegin();
  for (std::sregex_iterator it(html.begin(), html.end(), heading), end; it != end; ++it) {
    const std::smatch& m = *it;
    out.append(last, m[0].first);
    out += "<h" + m[1].str() + " id=\"" + slug(m[2].str()) + "\">" + m[2].str() + "</h" + m[1].str() + ">";
    last = m[0].second;
  }
  return out.append(last, html.cend());
}

std::string md_to_html(const std::string& md) {
  std::string html;
  auto sink = [](const MD_CHAR* text, MD_SIZE size, void* out) { static_cast<std::string*>(out)->append(text, size); };
  if (md_html(md.data(), static_cast<MD_SIZE>(md.size()), sink, &html, MD_DIALECT_GITHUB, MD_HTML_FLAG_XHTML) != 0)
    throw std::runtime_error("md4c could not render a chapter");
  return add_heading_ids(html);
}

const char* const kChapterCss = R"CSS(
body { font: 16px/1.5 system-ui, sans-serif; color: #1f2933; max-width: 60rem; margin: 0 auto; padding: 1rem; }
pre { background: #f5f7fa; padding: .75rem; overflow-x: auto; font-size: 13px; }
code { font-family: ui-monospace, monospace; }
table { border-collapse: collapse; } td, th { border: 1px solid #e4e7eb; padding: .25rem .5rem; }
img { max-width: 100%; } nav a { margin-right: 1rem; }
)CSS";

}  // namespace

std::string chapter_markdown(const std::string& markdown, const std::string& report_dir,
                             const std::string& source_dir) {
  static const std::regex begin(R"(^<!-- figure (\S+) -->\s*$)");
  // Chapters link to each other as N_name.md, and into the repository as ../path
  // (only the chapter's own lines: the figures link to the report's files).
  static const std::regex chapter_link(R"(\]\((\d_[A-Za-z0-9_]+)\.md)");
  static const std::regex repo_link(R"(\]\(\.\./)");
  std::istringstream in(markdown);
  std::string out, line;
  bool inside = false;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!inside && std::regex_match(line, m, begin)) {
      inside = true;
      out += "\n" + figure_markdown(m[1].str(), report_dir) + "\n";
    } else if (inside) {
      inside = line.rfind("<!-- end figure -->", 0) != 0;
    } else {
      line = std::regex_replace(line, chapter_link, "]($1.html");
      out += std::regex_replace(line, repo_link, "](file://" + source_dir + "/") + "\n";
    }
  }
  return out;
}

std::vector<Chapter> render_chapters(const std::string& docs_dir, const std::string& report_dir,
                                     const std::string& source_dir) {
  std::vector<fs::path> sources;
  static const std::regex chapter_name(R"(\d_[A-Za-z0-9_]+\.md)");
  if (fs::is_directory(docs_dir))
    for (const auto& e : fs::directory_iterator(docs_dir))
      if (std::regex_match(e.path().filename().string(), chapter_name)) sources.push_back(e.path());
  std::sort(sources.begin(), sources.end());
  std::vector<Chapter> chapters;
  fs::create_directories(fs::path(report_dir) / "tutorial");
  for (const auto& src : sources) {
    std::string md = read_text(src);
    std::string title = src.stem().string();
    if (md.rfind("# ", 0) == 0) title = md.substr(2, md.find('\n') - 2);
    chapters.push_back({title, "tutorial/" + src.stem().string() + ".html"});
  }
  for (std::size_t i = 0; i < sources.size(); ++i) {
    std::string nav = "<nav><a href=\"../index.html\">The report</a>";
    for (const auto& c : chapters)
      nav += "<a href=\"../" + c.file + "\">" + timeline::xml_escape(c.title.substr(0, c.title.find(':'))) + "</a>";
    nav += "</nav>\n";
    std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><title>" +
                       timeline::xml_escape(chapters[i].title) + "</title><style>" + kChapterCss +
                       "</style></head>\n<body>\n" + nav +
                       md_to_html(chapter_markdown(read_text(sources[i]), report_dir, source_dir)) + nav +
                       "</body></html>\n";
    std::ofstream f(fs::path(report_dir) / chapters[i].file, std::ios::binary);
    f << html;
    if (!f) throw std::runtime_error("cannot write " + chapters[i].file);
  }
  return chapters;
}

}  // namespace tour
