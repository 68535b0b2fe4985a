// examples/web_crawler against the test site (tests/data/site/, served by
// tests/data/site_server.py): its output lines, sorted, equal the Python
// twin's (tests/data/web_crawler.expected, made by
// tests/data/web_crawler_expected.sh with examples/python/web_crawler.py), on the
// real clock and in virtual time (where the 5 s timeout must still wait for
// the slow page in real time: virtual time never jumps over a request).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "watchdog.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

/// tests/data/site_server.py in a child process, for the test's duration.
class SiteServer {
 public:
  SiteServer() {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      std::string script = std::string(ASYNCIO_SOURCE_DIR) + "/tests/data/site_server.py";
      ::execlp("python3", "python3", script.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* out = ::fdopen(fds[0], "r");
    char line[64] = {};
    if (std::fgets(line, sizeof line, out) != nullptr) port_ = std::atoi(line);
    std::fclose(out);
  }
  ~SiteServer() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

std::string crawl(int port, const char* env) {
  std::string cmd = std::string(env) + " '" + ASYNCIO_BUILD_DIR + "/examples/web_crawler' http://127.0.0.1:" +
                    std::to_string(port) + "/";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0);
  return std::regex_replace(out, std::regex("127\\.0\\.0\\.1:" + std::to_string(port)), "127.0.0.1:PORT");
}

std::string expected() {
  std::ifstream f(fs::path(ASYNCIO_SOURCE_DIR) / "tests" / "data" / "web_crawler.expected");
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(WebCrawler, PrintsWhatThePythonTwinPrintsOnTheRealClock) {
  test::Watchdog dog(::testing::UnitTest::GetInstance()->current_test_info()->name(), 60s);
  SiteServer site;
  ASSERT_GT(site.port(), 0) << "the site server did not start";
  EXPECT_EQ(sorted_lines(crawl(site.port(), "ASYNCIO_VIRTUAL_TIME=0")), expected());
}

TEST(WebCrawler, PrintsWhatThePythonTwinPrintsInVirtualTime) {
  test::Watchdog dog(::testing::UnitTest::GetInstance()->current_test_info()->name(), 60s);
  SiteServer site;
  ASSERT_GT(site.port(), 0) << "the site server did not start";
  EXPECT_EQ(sorted_lines(crawl(site.port(), "ASYNCIO_VIRTUAL_TIME=1")), expected());
}

}  // namespace
