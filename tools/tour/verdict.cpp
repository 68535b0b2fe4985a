// Verdicts: see verdict.hpp.
#include "verdict.hpp"

#include <fmt/core.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace tour {
std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

std::string Verdict::summary() const {
  switch (kind) {
    case Kind::same:
      return "same output as Python";
    case Kind::differs:
      return "DIFFERS from Python";
    case Kind::no_twin:
      return "no Python twin";
    case Kind::no_expected:
      return "not compared (no expected output)";
  }
  return {};
}

std::string normalize_clock(const std::string& text) {
  static const std::regex clock("\\b\\d\\d:\\d\\d:\\d\\d\\b");
  return std::regex_replace(text, clock, "HH:MM:SS");
}

std::string line_diff(const std::string& want, const std::string& got, std::size_t context) {
  auto a = split_lines(want), b = split_lines(got);
  // Longest common subsequence table (outputs are a few hundred lines at most).
  std::vector<std::vector<std::uint32_t>> lcs(a.size() + 1, std::vector<std::uint32_t>(b.size() + 1, 0));
  for (std::size_t i = a.size(); i-- > 0;)
    for (std::size_t j = b.size(); j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<std::string> ops;  // each line with its prefix
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      ops.push_back(" " + a[i++]);
      ++j;
    } else if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push_back("-" + a[i++]);  // deletions first, as diff -u prints them
    } else {
      ops.push_back("+" + b[j++]);
    }
  }
  bool changed = false;
  for (const auto& op : ops) changed = changed || op[0] != ' ';
  if (!changed) return want == got ? std::string{} : "(the lines are the same; the final newline differs)\n";
  // Keep `context` unchanged lines around each change.
  std::vector<bool> keep(ops.size(), false);
  for (std::size_t k = 0; k < ops.size(); ++k) {
    if (ops[k][0] == ' ') continue;
    std::size_t lo = k >= context ? k - context : 0, hi = std::min(ops.size(), k + context + 1);
    for (std::size_t m = lo; m < hi; ++m) keep[m] = true;
  }
  std::string out;
  bool elided = false;
  for (std::size_t k = 0; k < ops.size(); ++k) {
    if (keep[k]) {
      out += ops[k] + "\n";
      elided = false;
    } else if (!elided) {
      out += " ...\n";
      elided = true;
    }
  }
  return out;
}

Verdict judge_example(const fs::path& examples_dir, const std::string& name, const std::string& stdout_text,
                      int status) {
  Verdict v;
  fs::path expected = examples_dir / "expected" / (name + ".out");
  fs::path status_file = examples_dir / "expected" / (name + ".status");
  if (fs::exists(status_file)) v.want_status = std::stoi(read_text(status_file));
  if (!fs::exists(examples_dir / "python" / (name + ".py"))) {
    v.kind = Verdict::Kind::no_twin;
    return v;
  }
  if (!fs::exists(expected)) {
    v.kind = Verdict::Kind::no_expected;
    return v;
  }
  std::string want = read_text(expected);
  std::string got = normalize_clock(stdout_text);
  if (got == want && status == v.want_status) {
    v.kind = Verdict::Kind::same;
    return v;
  }
  v.kind = Verdict::Kind::differs;
  if (got != want) v.diff = line_diff(want, got);
  if (status != v.want_status) v.diff += fmt::format("exit status {}, Python's twin exits with {}\n", status, v.want_status);
  return v;
}

}  // namespace tour
