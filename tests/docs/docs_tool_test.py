#!/usr/bin/env python3
"""Unit tests of tools/docs.py, the tutorial's splice tool: each problem it must
report (a missing file, a missing region, stale text, a broken link, an example
included nowhere) is made in a scratch repository and must be named with its
chapter and line; a fresh --write must then pass --check."""
import contextlib
import io
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import docs  # noqa: E402

CPP = """\
#include <cstdio>
// [main]
int main() {
  std::puts("hi");
}
// [end]
"""
PY = """\
import sys
# [main]
print("hi")
# [end]
"""


class DocsToolTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        (self.root / "examples" / "python").mkdir(parents=True)
        (self.root / "docs").mkdir()
        (self.root / "examples" / "hello.cpp").write_text(CPP)
        (self.root / "examples" / "python" / "hello.py").write_text(PY)

    def tearDown(self):
        self.tmp.cleanup()

    def chapter(self, body: str) -> Path:
        p = self.root / "docs" / "1_x.md"
        p.write_text(textwrap.dedent(body))
        return p

    def run_tool(self, *args: str) -> tuple[int, str]:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = docs.main(["--root", str(self.root), *args])
        return rc, err.getvalue()

    def test_write_then_check_passes_and_splices_both_twins(self):
        p = self.chapter("""\
            # X
            <!-- include examples/hello.cpp region=main -->
            <!-- end include -->
            """)
        self.assertEqual(self.run_tool("--check")[0], 1)  # empty block: stale
        self.assertEqual(self.run_tool("--write"), (0, ""))
        text = p.read_text()
        self.assertIn("```cpp\nint main() {\n  std::puts(\"hi\");\n}\n```", text)
        self.assertIn("```python\nprint(\"hi\")\n```", text)
        self.assertNotIn("#include", text)  # outside the region
        self.assertNotIn("[main]", text)  # marker lines are never shown
        self.assertIn("(../examples/python/hello.py)", text)
        self.assertEqual(self.run_tool("--check"), (0, ""))

    def test_stale_text_is_reported_with_chapter_and_line(self):
        self.chapter("""\
            # X
            <!-- include examples/hello.cpp region=main -->
            <!-- end include -->
            """)
        self.run_tool("--write")
        (self.root / "examples" / "hello.cpp").write_text(CPP.replace('"hi"', '"bye"'))
        rc, err = self.run_tool("--check")
        self.assertEqual(rc, 1)
        self.assertIn("docs/1_x.md:2: the generated text is out of date", err)

    def test_missing_file_is_reported(self):
        self.chapter("""\
            # X
            <!-- include examples/hello.cpp -->
            <!-- end include -->

            <!-- include examples/nope.cpp -->
            <!-- end include -->
            """)
        rc, err = self.run_tool("--write")
        self.assertEqual(rc, 1)
        self.assertIn("docs/1_x.md:5: examples/nope.cpp: no such file", err)

    def test_missing_region_is_reported(self):
        self.chapter("""\
            <!-- include examples/hello.cpp region=other -->
            <!-- end include -->
            """)
        rc, err = self.run_tool("--check")
        self.assertEqual(rc, 1)
        self.assertIn("docs/1_x.md:1: examples/hello.cpp: no region 'other'", err)

    def test_unterminated_block_and_broken_link_are_reported(self):
        self.chapter("""\
            See [the next chapter](2_gone.md).
            <!-- include examples/hello.cpp -->
            """)
        rc, err = self.run_tool("--check")
        self.assertEqual(rc, 1)
        self.assertIn("docs/1_x.md:1: broken link '2_gone.md'", err)
        self.assertIn("docs/1_x.md:2: '<!-- include examples/hello.cpp -->' has no '<!-- end include -->'", err)

    def test_a_link_to_a_missing_heading_is_reported(self):
        (self.root / "docs" / "2_y.md").write_text("# Two\n\n## C++ pitfalls: `co_await`\n")
        self.chapter("""\
            # X
            [ok](2_y.md#c-pitfalls-co_await) [ok](#x) [bad](2_y.md#pitfalls) [bad](#nope)
            """)
        rc, err = self.run_tool("--check")
        self.assertEqual(rc, 1)
        self.assertEqual(err.splitlines(), ["docs/1_x.md:2: broken link '2_y.md#pitfalls': no such heading",
                                            "docs/1_x.md:2: broken link '#nope': no such heading"])

    def test_an_example_included_nowhere_is_reported(self):
        self.chapter("# nothing\n")
        self.assertEqual(self.run_tool("--check"), (0, ""))
        rc, err = self.run_tool("--check", "--coverage")
        self.assertEqual(rc, 1)
        self.assertIn("examples/hello.cpp: included in no chapter", err)

    def test_python_twin_without_the_region_is_shown_whole(self):
        (self.root / "examples" / "python" / "hello.py").write_text("print('hi')\n")
        p = self.chapter("""\
            <!-- include examples/hello.cpp region=main -->
            <!-- end include -->
            """)
        self.assertEqual(self.run_tool("--write")[0], 0)
        self.assertIn("```python\nprint('hi')\n```", p.read_text())

    def test_unknown_figure_is_reported_and_known_figure_filled_from_a_report(self):
        report = self.root / "report"
        report.mkdir()
        (report / "cpu.md").write_text("| way | s |\n|---|---|\n| sync | 1.0 |\n")
        self.chapter("""\
            <!-- include examples/hello.cpp -->
            <!-- end include -->
            <!-- figure cpu-tabel -->
            <!-- end figure -->
            <!-- figure cpu-table -->
            <!-- end figure -->
            """)
        rc, err = self.run_tool("--check")
        self.assertIn("docs/1_x.md:3: unknown figure 'cpu-tabel'", err)
        self.chapter("""\
            <!-- include examples/hello.cpp -->
            <!-- end include -->
            <!-- figure cpu-table -->
            <!-- end figure -->
            """)
        self.assertEqual(self.run_tool("--figures", str(report))[0], 0)
        text = (self.root / "docs" / "1_x.md").read_text()
        self.assertIn("| sync | 1.0 |", text)
        self.assertRegex(text, r"measured \d{4}-\d\d-\d\d \d\d:\d\d UTC on `")
        self.assertEqual(self.run_tool("--check"), (0, ""))  # --check leaves measured figures alone

    def test_io_figures_are_filled_from_the_reports_io_files(self):
        report = self.root / "report"
        report.mkdir()
        (report / "io.md").write_text("| way | C++ seconds |\n|---|---|\n| asyncio | 0.15 |\n")
        (report / "io-asyncio.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
        self.chapter("""\
            <!-- include examples/hello.cpp -->
            <!-- end include -->
            <!-- figure io-table -->
            <!-- end figure -->
            <!-- figure io-asyncio -->
            <!-- end figure -->
            """)
        self.assertEqual(self.run_tool("--figures", str(report))[0], 0)
        text = (self.root / "docs" / "1_x.md").read_text()
        self.assertIn("| asyncio | 0.15 |", text)
        self.assertIn("![io-asyncio](figures/io-asyncio.svg)", text)
        self.assertTrue((self.root / "docs" / "figures" / "io-asyncio.svg").is_file())
        (self.root / "docs" / "figures" / "io-asyncio.svg").unlink()  # a figure file gone: a broken link
        rc, err = self.run_tool("--check")
        self.assertEqual(rc, 1)
        self.assertIn("figures/io-asyncio.svg", err)


if __name__ == "__main__":
    unittest.main()
