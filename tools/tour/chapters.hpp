#pragma once
// The tutorial's chapters (docs/N_*.md) in the report: `asyncio-tour report
// --out DIR` renders each with md4c (Debian's libmd4c-html) to
// DIR/tutorial/N_*.html, with the reader's own figures in place of each figure
// block (`<!-- figure NAME -->` ... `<!-- end figure -->`, tools/docs.py): the
// cpu table from DIR/cpu.md, the timelines as DIR/NAME.svg, all measured by the
// same report run. Links to other chapters go to their .html; links into the
// repository (`../examples/x.cpp`) to the source tree.
#include <string>
#include <vector>

namespace tour {

struct Chapter {
  std::string title;  // the first `# ` heading
  std::string file;   // relative to the report directory: "tutorial/1_concepts.html"
};

/// The chapter's Markdown with each figure block replaced by the report's own
/// figure (or a note that this report did not measure it), and links rewritten.
std::string chapter_markdown(const std::string& markdown, const std::string& report_dir,
                             const std::string& source_dir);

/// Renders every docs_dir/N_*.md (in order) into report_dir/tutorial/; returns them.
std::vector<Chapter> render_chapters(const std::string& docs_dir, const std::string& report_dir,
                                     const std::string& source_dir);

}  // namespace tour
