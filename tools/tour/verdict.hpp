#pragma once
// Honest verdicts for `asyncio-tour examples` and the report: an example has
// "the same output as Python" only when its stdout (stderr apart, clock times
// as HH:MM:SS) equals its twin's expected output exactly and it exits with the
// twin's status. Otherwise the verdict carries a line diff; an example with no
// Python twin in the repository (examples/python/NAME.py) or no expected output
// (examples/expected/NAME.out) is named as such, never called a match.
#include <filesystem>
#include <string>

namespace tour {

struct Verdict {
  enum class Kind { same, differs, no_twin, no_expected };
  Kind kind = Kind::no_twin;
  std::string diff;        // for `differs`: a unified-style line diff (expected -> got)
  int want_status = 0;     // the twin's exit status
  /// One line for tables: "same output as Python", "DIFFERS from Python", ...
  std::string summary() const;
  bool ok() const noexcept { return kind != Kind::differs; }
};

/// The whole content of a text file (empty when it cannot be read).
std::string read_text(const std::filesystem::path& p);

/// Clock times (12:34:56) become HH:MM:SS, as the oracle writes them.
std::string normalize_clock(const std::string& text);

/// Judges example `name`'s stdout and exit status against `examples_dir`/python/NAME.py
/// (does a twin exist) and `examples_dir`/expected/NAME.out (+ NAME.status).
Verdict judge_example(const std::filesystem::path& examples_dir, const std::string& name,
                      const std::string& stdout_text, int status);

/// A line diff of `want` against `got`: lines prefixed "-" (only in want), "+" (only
/// in got), " " (both); unchanged runs longer than 2*context are elided as "...".
std::string line_diff(const std::string& want, const std::string& got, std::size_t context = 2);

}  // namespace tour
