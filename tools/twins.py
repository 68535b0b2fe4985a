#!/usr/bin/env python3
"""Runs the Python twins of the C++ scenario tests and checks their output.

Each scenario test of tests/test_<module>.cpp compares its log with
tests/python/test_<module>/<scenario>.out, which it reads at run time
(scenario::expected). Beside it, <scenario>.py is the same program written
with CPython's asyncio. This script runs every twin and requires its stdout
to be exactly the .out file, so the expectation the C++ test holds is the
one CPython prints: neither side can drift without this check failing.

It also checks that every .out has its .py and is used by a C++ test, and
that every scenario::expected("...") in tests/*.cpp has its files.

A twin's first lines may say which CPython it needs, e.g. `# python: 3.13`
(Queue.shutdown is new in 3.13); it is then run with that version (python3.13
on PATH or under ~/.pyenv/versions), or skipped with a note when it is not
installed (an error with --strict).

Usage: tools/twins.py [--fast] [--strict] [--versions]
  --fast      run the twins this interpreter can run inside this process (no
              start-up per twin) and skip the others: ctest's form.
  --versions  also run each twin on every installed CPython from 3.11 on and
              report the versions whose output differs (information only).
"""
import contextlib
import functools
import io
import runpy
import argparse
import difflib
import glob
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TWINS = os.path.join(ROOT, "tests", "python")
EXPECTED_RE = re.compile(r'scenario::expected\("([^"]+)"\)')
VERSION_RE = re.compile(r"^#\s*python:\s*(\d+)\.(\d+)", re.M)


@functools.lru_cache(maxsize=None)
def interpreter(version):
    """The command running CPython `version` (a (major, minor) tuple) or newer, or None."""
    if sys.version_info[:2] >= version:
        return sys.executable
    for minor in range(version[1], version[1] + 5):
        name = f"python{version[0]}.{minor}"
        path = shutil.which(name)
        if path and subprocess.run([path, "-c", "0"], capture_output=True).returncode == 0:
            return path
        found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version[0]}.{minor}.*/bin/python3")))
        if found:
            return found[-1]
    return None


def installed_versions():
    out = {}
    for minor in range(11, 20):
        exe = interpreter((3, minor))
        if exe and exe not in out.values():
            v = subprocess.run([exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True).stdout.strip()
            if v == f"3.{minor}":
                out[v] = exe
    return out


def run_twin(exe, path):
    env = dict(os.environ, PYTHONPATH=TWINS, PYTHONDONTWRITEBYTECODE="1")
    try:
        p = subprocess.run([exe, path], capture_output=True, text=True, env=env, timeout=60)
    except subprocess.TimeoutExpired:
        return "[still running after 60 s: killed]\n"
    return p.stdout + (f"[exit {p.returncode}]\n{p.stderr}" if p.returncode else "")


def run_twin_here(path):
    """run_twin in this process: the twin's module runs with stdout captured."""
    out = io.StringIO()
    saved_path, saved_modules = list(sys.path), set(sys.modules)
    sys.path[:0] = [os.path.dirname(path), TWINS]
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(path, run_name="__main__")
    except BaseException as e:  # a twin that raises fails, with what it raised
        out.write(f"[raised {e!r}]\n")
    finally:
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:  # each twin imports its helpers afresh
            if os.path.abspath(getattr(sys.modules[name], "__file__", None) or "/").startswith(TWINS):
                del sys.modules[name]
    return out.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fast", action="store_true", help="in-process, this interpreter's twins only")
    ap.add_argument("--strict", action="store_true", help="fail when a twin's CPython is not installed")
    ap.add_argument("--versions", action="store_true", help="report output differences across CPython versions")
    args = ap.parse_args()

    failures, skipped, passed = [], [], 0
    # (files named _*.py are helpers the twins of one test file share)
    twins = sorted(p for p in glob.glob(os.path.join(TWINS, "test_*", "*.py"))
                   if not os.path.basename(p).startswith("_"))
    outs = sorted(glob.glob(os.path.join(TWINS, "test_*", "*.out")))

    # Every expectation a C++ test reads exists, and every twin is read by a test.
    used = set()
    for cpp in glob.glob(os.path.join(ROOT, "tests", "test_*.cpp")):
        with open(cpp) as f:
            used.update(EXPECTED_RE.findall(f.read()))
    for key in sorted(used):
        for ext in (".py", ".out"):
            if not os.path.exists(os.path.join(TWINS, key + ext)):
                failures.append(f"{key}{ext}: read by a C++ test but missing")
    for out in outs:
        key = os.path.relpath(out, TWINS)[:-4]
        if key not in used:
            failures.append(f"{key}.out: no C++ test reads it (scenario::expected(\"{key}\"))")
        if not os.path.exists(out[:-4] + ".py"):
            failures.append(f"{key}.out: no Python twin {key}.py")

    versions = installed_versions() if args.versions else {}
    for py in twins:
        key = os.path.relpath(py, TWINS)[:-3]
        with open(py) as f:
            head = f.read(400)
        m = VERSION_RE.search(head)
        need = (int(m.group(1)), int(m.group(2))) if m else (3, 11)
        exe = interpreter(need) if not args.fast or sys.version_info[:2] < need else sys.executable
        if args.fast and exe != sys.executable:
            skipped.append(f"{key}: needs CPython {need[0]}.{need[1]} (--fast runs {sys.version_info[0]}."
                           f"{sys.version_info[1]} only; `make twins` runs it)")
            continue
        if exe is None:
            msg = f"{key}: needs CPython {need[0]}.{need[1]}, not installed"
            (failures if args.strict else skipped).append(msg)
            continue
        expected_path = py[:-3] + ".out"
        if not os.path.exists(expected_path):
            failures.append(f"{key}.py: no {key}.out")
            continue
        with open(expected_path) as f:
            expected = f.read()
        got = run_twin_here(py) if args.fast else run_twin(exe, py)
        if got != expected:
            diff = "".join(difflib.unified_diff(expected.splitlines(True), got.splitlines(True),
                                                f"{key}.out (the C++ test's expectation)",
                                                f"{key}.py on {os.path.basename(exe)}"))
            failures.append(f"{key}: the twin's output differs\n{diff}")
        else:
            passed += 1
        for v, vexe in versions.items():
            if tuple(map(int, v.split("."))) < need or vexe == exe:
                continue
            if run_twin(vexe, py) != expected:
                print(f"note: {key} prints differently on CPython {v}")

    for s in skipped:
        print(f"skipped: {s}")
    for f in failures:
        print(f"FAIL: {f}")
    print(f"twins: {passed} matched, {len(skipped)} skipped, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
