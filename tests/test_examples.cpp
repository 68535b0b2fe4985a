// Examples are specifications: each build/examples/NAME, run in virtual time,
// prints exactly examples/expected/NAME.out (clock times as HH:MM:SS), exits
// with NAME.status (default 0) and, when NAME.stderr exists, prints that text
// on stderr. When NAME.signal exists (a name: TERM, INT, HUP), the example is
// sent that signal once it has printed its first line (a server-style program
// that runs until it is told to stop).
#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

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

int signal_number(const std::string& name) {
  if (name == "TERM") return SIGTERM;
  if (name == "INT") return SIGINT;
  if (name == "HUP") return SIGHUP;
  ADD_FAILURE() << "unknown signal name " << name;
  return SIGKILL;
}

Outcome run_example(const fs::path& exe, int sig = 0) {
  fs::path err_file = fs::path(testing::TempDir()) / (exe.filename().string() + ".stderr");
  if (sig != 0) {
    // posix_spawn with stdout on a pipe: the signal goes once the first line is out.
    int p[2];
    EXPECT_EQ(pipe(p), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, p[1], 1);
    posix_spawn_file_actions_addclose(&actions, p[0]);
    posix_spawn_file_actions_addclose(&actions, p[1]);
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::string path = exe.string();
    std::string virt = "ASYNCIO_VIRTUAL_TIME=1";
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
    env.push_back(virt.data());
    env.push_back(nullptr);
    char* argv[] = {path.data(), nullptr};
    pid_t pid = 0;
    int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, env.data());
    posix_spawn_file_actions_destroy(&actions);
    close(p[1]);
    EXPECT_EQ(rc, 0);
    std::string out;
    bool sent = false;
    char buf[4096];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0) out.append(buf, static_cast<size_t>(n));
      if (!sent && out.find('\n') != std::string::npos) {
        kill(pid, sig);
        sent = true;
      }
    }
    close(p[0]);
    int raw = 0;
    waitpid(pid, &raw, 0);
    return {out, read_file(err_file), WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw)};
  }
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
  int sig = 0;
  if (fs::exists(expected_dir / (name + ".signal"))) sig = signal_number(trim(read_file(expected_dir / (name + ".signal"))));
  Outcome got = run_example(exe, sig);
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
