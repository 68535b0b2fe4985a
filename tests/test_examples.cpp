// Examples are specifications: each build/examples/NAME, run in virtual time,
// prints exactly examples/expected/NAME.out (clock times as HH:MM:SS), exits
// with NAME.status (default 0) and, when NAME.stderr exists, prints that text
// on stderr.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

struct Outcome {
  std::string out, err;
  int status;
};

Outcome run_example(const fs::path& exe) {
  fs::path err_file = fs::path(testing::TempDir()) / (exe.filename().string() + ".stderr");
  std::string cmd = "ASYNCIO_VIRTUAL_TIME=1 '" + exe.string() + "' 2>'" + err_file.string() + "'";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int raw = pclose(p);
  return {out, read_file(err_file), WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw)};
}

class Example : public testing::TestWithParam<std::string> {};

TEST_P(Example, MatchesTheOracleInVirtualTime) {
  const std::string name = GetParam();
  fs::path expected_dir = fs::path(ASYNCIO_SOURCE_DIR) / "examples" / "expected";
  fs::path exe = fs::path(ASYNCIO_BUILD_DIR) / "examples" / name;
  ASSERT_TRUE(fs::exists(exe)) << exe << " was not built";
  Outcome got = run_example(exe);
  std::string out = std::regex_replace(got.out, std::regex("\\b\\d\\d:\\d\\d:\\d\\d\\b"), "HH:MM:SS");
  EXPECT_EQ(out, read_file(expected_dir / (name + ".out")));
  int status = 0;
  if (fs::exists(expected_dir / (name + ".status"))) status = std::stoi(read_file(expected_dir / (name + ".status")));
  EXPECT_EQ(got.status, status) << "stderr:\n" << got.err;
  if (fs::exists(expected_dir / (name + ".stderr"))) {
    EXPECT_NE(got.err.find(trim(read_file(expected_dir / (name + ".stderr")))), std::string::npos) << got.err;
  }
}

std::vector<std::string> example_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fs::path(ASYNCIO_SOURCE_DIR) / "examples" / "expected"))
    if (e.path().extension() == ".out") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Oracle, Example, testing::ValuesIn(example_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
