#!/usr/bin/env python3
"""The Python -> C++ name pages (docs/api/*.md): generated from the headers, and checked.

Doxygen (tools/Doxyfile, XML output) reads the public headers, whatever they are
(include/asyncio/**.hpp but detail/). Every public class, struct, function,
field, enum and alias with a doc comment there gets its Python name:

1. from docs/api/names.txt when a line names it (the first matching line wins;
   `*` matches any run of characters):

       asyncio::Coro = coroutine object (`async def`)
       asyncio::EventLoop = asyncio.AbstractEventLoop as loop
       asyncio::*Awaiter* = C++ only: what `co_await x` returns

   `= C++ only: WHY` marks a name that has no Python counterpart; `{member}`
   stands for the member's C++ name (for a `Class::*` line); `as loop`
   shows the members as `loop.run_in_executor` (checked as
   asyncio.AbstractEventLoop.run_in_executor);
2. else derived from the C++ name: namespace `asyncio` is Python's module
   asyncio (or builtins, concurrent.futures, asyncio.subprocess),
   `asyncio::http` aiohttp (or urllib.parse, multidict), `asyncio::http::web`
   aiohttp.web, `asyncio::ssl` ssl (MODULES below); a member of class C is the
   member of C's Python name. A derived name counts only if CPython has it:
   /usr/bin/python3 imports the module and finds the attribute (aiohttp is a
   Debian package, python3-aiohttp).

Constructors and destructors go with their class; `operator<<` is `repr(x)`,
`operator co_await` is `await x`.

  tools/api_map.py --write    regenerate docs/api/index.md and a page per header
  tools/api_map.py --check    exit 1 when a documented name has neither a Python name
                              nor a C++-only mark, when a names.txt line matches
                              nothing, or when a page is out of date (make test)
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "api"
NAMES = API / "names.txt"
PYTHON = "/usr/bin/python3"
# The Python modules a namespace's names come from, tried in order.
MODULES = {
    "asyncio": ["asyncio", "builtins", "concurrent.futures", "asyncio.subprocess"],
    "asyncio::concurrent": ["concurrent.futures"],
    "asyncio::ssl": ["ssl"],
    "asyncio::http": ["aiohttp", "urllib.parse", "multidict", "http"],
    "asyncio::http::web": ["aiohttp.web"],
}
CPP_ONLY = "C++ only:"


@dataclass
class Entity:
    cpp: str          # qualified C++ name
    kind: str         # class, struct, function, variable, enum, typedef, friend
    header: str       # asyncio/locks.hpp
    line: int
    parent: str = ""  # the enclosing class, for members


@dataclass
class Mapping:
    python: str = ""  # what a Python programmer writes
    reason: str = ""  # C++ only: why
    source: str = ""  # "names.txt:N" or "derived"


# ---- the headers, through Doxygen's XML ----------------------------------------------------------

def doxygen_xml(out: Path) -> Path:
    config = (ROOT / "tools" / "Doxyfile").read_text()
    config += (f"\nOUTPUT_DIRECTORY = {out}\nGENERATE_HTML = NO\nGENERATE_XML = YES\n"
               f"XML_PROGRAMLISTING = NO\nWARN_LOGFILE = {out / 'warnings.log'}\n"
               "INPUT = include/asyncio\n")
    subprocess.run(["doxygen", "-"], input=config, text=True, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "ASYNCIO_API_DIR": str(out)})
    return out / "xml"


def documented(e: ET.Element) -> bool:
    return any("".join(d.itertext()).strip() for t in ("briefdescription", "detaileddescription")
               if (d := e.find(t)) is not None)


def entities(xml: Path) -> list[Entity]:
    out: dict[tuple[str, str], Entity] = {}
    for c in ET.parse(xml / "index.xml").getroot().findall("compound"):
        kind = c.get("kind")
        if kind not in ("class", "struct", "namespace"):
            continue
        cd = ET.parse(xml / f"{c.get('refid')}.xml").getroot().find("compounddef")
        name = cd.findtext("compoundname")
        if "detail" in name.split("::") or cd.get("prot") in ("private", "protected"):
            continue  # not public: an implementation detail, or a class's private member
        loc = cd.find("location")
        if kind != "namespace" and documented(cd) and loc is not None:
            out.setdefault((name, kind), Entity(name, kind, loc.get("file"), int(loc.get("line", 0))))
        for sec in cd.findall("sectiondef"):
            for m in sec.findall("memberdef"):
                if m.get("prot") != "public" or not documented(m):
                    continue
                mloc = m.find("location")
                member = m.findtext("name")
                if member in (name.split("::")[-1].split("<")[0], "~" + name.split("::")[-1].split("<")[0]):
                    continue  # constructors and destructors go with their class
                e = Entity(f"{name}::{member}", m.get("kind"), mloc.get("file"), int(mloc.get("line", 0)),
                           name if kind != "namespace" else "")
                out.setdefault((e.cpp, e.parent), e)
    return sorted(out.values(), key=lambda e: (e.header, e.line, e.cpp))


# ---- names.txt and the derived names -------------------------------------------------------------

@dataclass
class Rule:
    pattern: str
    python: str
    alias: str
    line: int
    used: bool = False


def read_rules(text: str) -> list[Rule]:
    rules = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if " = " not in line:
            raise SystemExit(f"names.txt:{n}: expected `C++ name = Python name`")
        cpp, python = (s.strip() for s in line.split(" = ", 1))
        alias = ""
        if m := re.fullmatch(r"(\S+) as (\w+)", python):
            python, alias = m.group(1), m.group(2)
        rules.append(Rule(cpp, python, alias, n))
    return rules


def rule_for(cpp: str, rules: list[Rule]) -> Rule | None:
    for r in rules:
        if fnmatch.fnmatchcase(cpp, r.pattern):
            r.used = True
            return r
    return None


def python_has(names: set[str]) -> set[str]:
    """The dotted names CPython (/usr/bin/python3) has: module prefix imported, the rest getattr."""
    script = """
import importlib, json, sys
found = []
for name in json.load(sys.stdin):
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for p in parts[i:]:
                obj = getattr(obj, p)
        except AttributeError:
            break
        found.append(name)
        break
json.dump(found, sys.stdout)
"""
    r = subprocess.run([PYTHON, "-c", script], input=json.dumps(sorted(names)), text=True,
                       capture_output=True, check=True)
    return set(json.loads(r.stdout))


def short(cpp: str) -> str:
    return cpp.split("::")[-1]


def namespace_of(cpp: str) -> str:
    return re.sub(r"<.*", "", cpp.rsplit("::", 1)[0]) if "::" in cpp else ""


def derived(cpp: str) -> list[str]:
    """The Python names a C++ name at namespace scope may stand for, in order."""
    return [f"{m}.{short(cpp)}" for m in MODULES.get(namespace_of(cpp), [])]


def resolve(ents: list[Entity], rules: list[Rule]) -> dict[str, Mapping]:
    """The Python name of each entity (by C++ name); missing when none is known."""
    out: dict[str, Mapping] = {}
    # The classes first (members' derived names start with theirs), documented or not:
    # C++ class -> (the Python name CPython is asked about, the name shown).
    classes: dict[str, tuple[str, str]] = {}
    parents = {e.parent for e in ents if e.parent} | {e.cpp for e in ents if e.kind in ("class", "struct")}
    class_candidates: dict[str, list[str]] = {}
    for c in parents:
        r = rule_for(c, rules)
        if r is None:
            class_candidates[c] = derived(c)
        elif not r.python.startswith(CPP_ONLY) and re.fullmatch(r"[\w.]+", r.python):
            classes[c] = (r.python if "." in r.python else "builtins." + r.python, r.alias or r.python)
    top = {e.cpp: derived(e.cpp) for e in ents if not e.parent and not short(e.cpp).startswith("operator")}
    has = python_has({py for names in [*class_candidates.values(), *top.values()] for py in names})
    for c, names in class_candidates.items():
        if found := next((py for py in names if py in has), None):
            classes[c] = (found, found.removeprefix("builtins."))
    members: dict[str, tuple[str, str]] = {}  # C++ -> (asked, shown)
    for e in ents:
        member = short(e.cpp)
        if member == "operator<<":
            out[e.cpp] = Mapping(python="repr(x)", source="derived")
            continue
        if member == "operator co_await":
            out[e.cpp] = Mapping(python="await x", source="derived")
            continue
        r = rule_for(e.cpp, rules)
        if r is not None:
            if r.python.startswith(CPP_ONLY):
                out[e.cpp] = Mapping(reason=r.python[len(CPP_ONLY):].strip(), source=f"names.txt:{r.line}")
            else:
                out[e.cpp] = Mapping(python=r.python.replace("{member}", member), source=f"names.txt:{r.line}")
        elif e.parent:
            if e.parent in classes and not member.startswith("operator"):
                asked, shown = classes[e.parent]
                members[e.cpp] = (f"{asked}.{member}", f"{shown}.{member}")
        elif found := next((py for py in top.get(e.cpp, []) if py in has), None):
            out[e.cpp] = Mapping(python=found.removeprefix("builtins."), source="derived")
    has = python_has({asked for asked, _ in members.values()})
    for cpp, (asked, shown) in members.items():
        if asked in has:
            out[cpp] = Mapping(python=shown, source="derived")
    return out


# ---- the pages -----------------------------------------------------------------------------------

def page_name(header: str) -> str:
    return header.removeprefix("asyncio/").removesuffix(".hpp").replace("/", "_") + ".md"


def code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`" if "`" not in text else text.replace("|", "\\|")


def pages(ents: list[Entity], names: dict[str, Mapping]) -> dict[str, str]:
    by_header: dict[str, list[Entity]] = {}
    for e in ents:
        by_header.setdefault(e.header, []).append(e)
    out: dict[str, str] = {}
    head = "<!-- generated by tools/api_map.py --write from the headers and docs/api/names.txt: do not edit -->\n\n"
    index = [head + "# Python → C++: the names, header by header\n",
             "For each public header, every documented name with the Python name it stands for",
             "(asyncio's, or aiohttp's for `asyncio::http`), and the names that are C++ only, with why.",
             "Generated from the headers by `tools/api_map.py` (checked by `make test`); the full",
             "reference is `make docs` (Doxygen).\n",
             "| header | Python names | C++ only |", "|---|---|---|"]
    for header, items in sorted(by_header.items()):
        mapped = [e for e in items if names.get(e.cpp, Mapping()).python]
        only = [e for e in items if names.get(e.cpp, Mapping()).reason]
        page = [head + f"# `{header}`: Python → C++\n",
                f"[`include/{header}`](../../include/{header}) · [all headers](index.md)\n",
                "| Python | C++ | kind |", "|---|---|---|"]
        page += [f"| {code(names[e.cpp].python)} | {code(e.cpp)} | {e.kind} |" for e in mapped]
        if only:
            page += ["", "## C++ only\n", "| C++ | why |", "|---|---|"]
            page += [f"| {code(e.cpp)} | {names[e.cpp].reason.replace('|', chr(92) + '|')} |" for e in only]
        out[page_name(header)] = "\n".join(page) + "\n"
        index.append(f"| [`{header}`]({page_name(header)}) | {len(mapped)} | {len(only)} |")
    out["index.md"] = "\n".join(index) + "\n"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="regenerate docs/api/")
    mode.add_argument("--check", action="store_true", help="exit 1 when a name is unmapped or a page stale")
    parser.add_argument("--xml", type=Path, help="use this Doxygen XML directory instead of running Doxygen")
    parser.add_argument("--names", type=Path, default=NAMES, help="the names file (default: docs/api/names.txt)")
    parser.add_argument("--doxygen-xml", type=Path, metavar="DIR", help="only write Doxygen's XML to DIR")
    args = parser.parse_args()
    if args.doxygen_xml:
        doxygen_xml(args.doxygen_xml.resolve())
        return 0
    if not (args.write or args.check):
        parser.error("one of --write, --check, --doxygen-xml is required")
    rules = read_rules(args.names.read_text())
    with tempfile.TemporaryDirectory(prefix="api_map-") as tmp:
        ents = entities(args.xml or doxygen_xml(Path(tmp)))
    names = resolve(ents, rules)
    errors = [f"include/{e.header}:{e.line}: {e.cpp} ({e.kind}) has no Python name: add it to "
              f"docs/api/names.txt (`{e.cpp} = python.name` or `= C++ only: why`)"
              for e in ents if e.cpp not in names]
    errors += [f"{args.names.name}:{r.line}: `{r.pattern}` matches no documented name" for r in rules if not r.used]
    generated = pages(ents, names)
    if args.write:
        for old in API.glob("*.md"):
            if old.name not in generated:
                old.unlink()
        for name, text in generated.items():
            (API / name).write_text(text)
    else:
        existing = {p.name for p in API.glob("*.md")}
        for name, text in generated.items():
            path = API / name
            if not path.exists() or path.read_text() != text:
                errors.append(f"docs/api/{name} is out of date: run tools/api_map.py --write")
        errors += [f"docs/api/{n}: no such header any more: run tools/api_map.py --write"
                   for n in sorted(existing - set(generated))]
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
