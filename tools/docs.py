#!/usr/bin/env python3
"""Splice the examples into the tutorial's chapters (docs/*.md), and check them.

A chapter never pastes code: it names what goes where, and this tool writes it.

  <!-- include examples/gather.cpp region=main -->
  ...generated: the C++ code, then its Python twin examples/python/gather.py...
  <!-- end include -->

`region=NAME` takes only the lines between `// [NAME]` and `// [end]` in the C++
file (`# [NAME]` ... `# [end]` in the Python one); without it the whole file is
taken. The Python twin, when examples/python/NAME.py exists, follows as a second
fenced block: its region NAME when it marks one, else the whole file
(`python=none` leaves it out). Marker lines themselves are never shown.

  <!-- figure cpu-table -->
  ...generated: a figure measured by `asyncio-tour report --out DIR`...
  <!-- end figure -->

Figures are machine-dependent, so only `--figures DIR` rewrites them (from the
report directory DIR, stamped with the time the report wrote each file and this
machine's name and CPU: run it where the report ran); `--check` only
verifies that each figure marker names a known figure and that the files the
generated text points to exist.

  tools/docs.py --write              regenerate the includes in place
  tools/docs.py --figures DIR        also refill the figures from a tour report
  tools/docs.py --check              exit 1, naming chapter:line, when a chapter
                                     names a missing file or region, a generated
                                     block is stale, a relative link is broken,
                                     or (--coverage) an example is included nowhere
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
import re
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

INCLUDE_RE = re.compile(r"^<!-- include (\S+)((?: \w+=\S+)*) -->\s*$")
END_INCLUDE = "<!-- end include -->"
FIGURE_RE = re.compile(r"^<!-- figure (\S+) -->\s*$")
END_FIGURE = "<!-- end figure -->"
LINK_RE = re.compile(r"\]\(([^)\s#]*)(#[^)]*)?\)")
HEADING_RE = re.compile(r"^#{1,6} (.*)$")
REGION_MARK = {".cpp": "//", ".hpp": "//", ".py": "#"}
LANGUAGE = {".cpp": "cpp", ".hpp": "cpp", ".py": "python"}


class DocsError(Exception):
    """A problem in a chapter, reported as `chapter:line: message`."""

    def __init__(self, chapter: Path, line: int, message: str):
        super().__init__(f"{chapter}:{line}: {message}")


def region_lines(text: str, suffix: str, region: str | None) -> list[str] | None:
    """The lines of `region` (None: the whole text), without any marker line;
    None when the region is not marked in the text."""
    mark = REGION_MARK.get(suffix, "//")
    marker = re.compile(r"^\s*" + re.escape(mark) + r" \[([\w. -]+)\]\s*$")
    out: list[str] = []
    inside = region is None
    found = region is None
    for line in text.splitlines():
        m = marker.match(line)
        if m:
            name = m.group(1)
            if region is not None and name == region:
                inside, found = True, True
            elif region is not None and name == "end" and inside:
                inside = False
            continue
        if inside:
            out.append(line)
    if not found:
        return None
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    indent = min((len(l) - len(l.lstrip()) for l in out if l.strip()), default=0)
    return [l[indent:] for l in out]


def python_twin(root: Path, source: Path) -> Path | None:
    if source.suffix != ".cpp":
        return None
    twin = root / source.parent / "python" / (source.stem + ".py")
    return twin if twin.exists() else None


def fenced(root: Path, chapter_dir: Path, path: Path, lines: list[str], heading: str) -> list[str]:
    link = Path("../" * len(chapter_dir.relative_to(root).parts)) / path
    return [f"{heading} [`{path}`]({link.as_posix()}):", "", "```" + LANGUAGE.get(path.suffix, ""), *lines, "```"]


def render_include(root: Path, chapter: Path, line_no: int, target: str, options: dict[str, str]) -> list[str]:
    source = Path(target)
    full = root / source
    if not full.is_file():
        raise DocsError(chapter.relative_to(root), line_no, f"{target}: no such file")
    region = options.get("region")
    lines = region_lines(full.read_text(), source.suffix, region)
    if lines is None:
        raise DocsError(chapter.relative_to(root), line_no, f"{target}: no region '{region}' (mark it with "
                        f"'{REGION_MARK.get(source.suffix, '//')} [{region}]' ... '[end]')")
    what = f" (region `{region}`)" if region else ""
    out = fenced(root, chapter.parent, source, lines, f"C++{what}," if source.suffix != ".py" else f"Python{what},")
    if options.get("python", "") != "none":
        twin = python_twin(root, source)
        if twin is not None:
            text = twin.read_text()
            py = region_lines(text, ".py", region) if region else None
            if py is None:
                py = region_lines(text, ".py", None)
                what = ""
            out += [""] + fenced(root, chapter.parent, twin.relative_to(root), py, f"Python{what},")
    return out


# ---- figures ------------------------------------------------------------------------------------

def machine_stamp(measured: datetime.datetime | None = None) -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    when = (measured or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    return f"measured {when} on `{socket.gethostname()}` ({cpu}, {platform.system()} {platform.machine()})"


def figure_files(name: str) -> list[str]:
    """The report files a figure is made of (the names `asyncio-tour report` writes)."""
    if name in ("cpu-table", "io-table"):
        return [name[:-len("-table")] + ".md"]
    if name.startswith("timeline-"):
        return [name[len("timeline-"):] + ".svg"]
    if name in ("cpu-loop", "cpu-threads", "cpu-processes", "io-asyncio", "io-threads"):
        return [name + ".svg"]
    return []


def render_figure(root: Path, chapter: Path, name: str, report: Path) -> list[str]:
    files = figure_files(name)
    for f in files:
        if not (report / f).is_file():
            raise DocsError(chapter.relative_to(root), 0, f"figure {name}: {report / f} is not in the report")
    # Measured when the report wrote the file; on this machine (run --figures where the report ran).
    stamp = machine_stamp(datetime.datetime.fromtimestamp((report / files[0]).stat().st_mtime,
                                                          datetime.timezone.utc))
    figures = root / "docs" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    out: list[str] = []
    for f in files:
        if f.endswith(".md"):
            out += (report / f).read_text().strip().splitlines()
        else:
            shutil.copyfile(report / f, figures / f)
            rel = Path("../" * (len(chapter.parent.relative_to(root).parts) - 1)) / "figures" / f
            out.append(f"![{name}]({rel.as_posix()})")
    return out + ["", f"*Figure {name}: {stamp}, by `asyncio-tour report` and `tools/docs.py --figures`.*"]


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but - and _ dropped, spaces as -."""
    out: set[str] = set()
    fence = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fence = not fence
        m = None if fence else HEADING_RE.match(line)
        if m:
            out.add("".join(c for c in re.sub(r"<[^>]*>", "", m.group(1)).lower().replace(" ", "-")
                            if c.isalnum() or c in "-_"))
    return out


# ---- chapters -----------------------------------------------------------------------------------

@dataclass
class Result:
    text: str
    errors: list[str]
    included: set[str]


def process(root: Path, chapter: Path, figures_from: Path | None = None) -> Result:
    lines = chapter.read_text().splitlines()
    rel = chapter.relative_to(root)
    out: list[str] = []
    errors: list[str] = []
    included: set[str] = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        m_inc, m_fig = INCLUDE_RE.match(line), FIGURE_RE.match(line)
        if not (m_inc or m_fig):
            out.append(line)
            i += 1
            continue
        end_marker = END_INCLUDE if m_inc else END_FIGURE
        end = i + 1
        while end < len(lines) and lines[end].strip() != end_marker and not INCLUDE_RE.match(lines[end]) \
                and not FIGURE_RE.match(lines[end]):
            end += 1
        if end >= len(lines) or lines[end].strip() != end_marker:
            errors.append(f"{rel}:{i + 1}: '{line.strip()}' has no '{end_marker}' after it")
            out.append(line)
            i += 1
            continue
        old = lines[i + 1:end]
        new = old
        try:
            if m_inc:
                options = dict(o.split("=", 1) for o in m_inc.group(2).split())
                unknown = set(options) - {"region", "python"}
                if unknown:
                    raise DocsError(rel, i + 1, f"unknown option(s) {', '.join(sorted(unknown))}")
                included.add(m_inc.group(1))
                new = [""] + render_include(root, chapter, i + 1, m_inc.group(1), options) + [""]
            else:
                name = m_fig.group(1)
                if not figure_files(name):
                    raise DocsError(rel, i + 1, f"unknown figure '{name}' (cpu-table, cpu-loop, cpu-threads, "
                                    "cpu-processes, io-table, io-asyncio, io-threads, timeline-EXAMPLE)")
                if figures_from is not None:
                    new = [""] + render_figure(root, chapter, name, figures_from) + [""]
        except DocsError as e:
            errors.append(str(e).replace(":0:", f":{i + 1}:"))
        if new != old:
            errors.append(f"{rel}:{i + 1}: the generated text is out of date (run tools/docs.py --write)")
        out += [line] + new + [lines[end]]
        i = end + 1
    # Relative links (outside code blocks) must point at files that exist.
    fence = False
    for n, line in enumerate(out, 1):
        if line.startswith("```"):
            fence = not fence
        if fence:
            continue
        for m in LINK_RE.finditer(line):
            target, fragment = m.group(1), m.group(2)
            if re.match(r"^[a-z]+:", target):
                continue
            path = chapter.parent / target if target else chapter
            if not path.exists() and not (figures_from and "figures/" in target):
                errors.append(f"{rel}:{n}: broken link '{target}'")
            elif fragment and path.suffix == ".md":
                text = "\n".join(out) if path == chapter else path.read_text()
                if fragment[1:] not in anchors(text):
                    errors.append(f"{rel}:{n}: broken link '{target}{fragment}': no such heading")
    return Result("\n".join(out) + "\n", errors, included)


def chapters(root: Path) -> list[Path]:
    return sorted((root / "docs").glob("*.md")) + [root / "README.md"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the repository (default: this file's)")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate the included code in place")
    mode.add_argument("--check", action="store_true", help="exit 1 when anything is missing or stale")
    mode.add_argument("--figures", type=Path, metavar="DIR",
                      help="regenerate everything, the figures from the `asyncio-tour report --out DIR` directory")
    parser.add_argument("--coverage", action="store_true",
                        help="also require every examples/*.cpp to be included in some chapter")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    figures_from = args.figures.resolve() if args.figures else None
    problems: list[str] = []
    included: set[str] = set()
    for chapter in chapters(root):
        if not chapter.exists():
            continue
        result = process(root, chapter, figures_from)
        included |= result.included
        if args.check:
            problems += result.errors
        else:
            problems += [e for e in result.errors if "out of date" not in e]
            if result.text != chapter.read_text():
                chapter.write_text(result.text)
                print(f"wrote {chapter.relative_to(root)}")
    examples = sorted(p.relative_to(root).as_posix() for p in (root / "examples").glob("*.cpp"))
    for example in examples if args.coverage else []:
        if example not in included:
            problems.append(f"{example}: included in no chapter (add '<!-- include {example} -->' to one)")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
