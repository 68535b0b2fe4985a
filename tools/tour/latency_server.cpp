// The latency server's process: see latency_server.hpp.
#include "latency_server.hpp"

#include <fmt/core.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

extern char** environ;

namespace fs = std::filesystem;

namespace tour {

LatencyServer::LatencyServer(double latency) {
  int p[2];
  if (::pipe(p) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, p[1], 1);
  posix_spawn_file_actions_addclose(&actions, p[0]);
  posix_spawn_file_actions_addclose(&actions, p[1]);
  std::string exe = (fs::path(ASYNCIO_BUILD_DIR) / "examples" / "io_demo").string();
  std::string serve = "serve", port = "0", lat = fmt::format("{}", latency);
  char* argv[] = {exe.data(), serve.data(), port.data(), lat.data(), nullptr};
  int rc = ::posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(p[1]);
  if (rc != 0) {
    pid_ = 0;
    ::close(p[0]);
    return;
  }
  out_ = ::fdopen(p[0], "r");
  char line[256];
  while (out_ && std::fgets(line, sizeof line, out_)) {
    std::string text(line);
    if (auto at = text.find("http://127.0.0.1:"); at != std::string::npos) {
      port_ = std::atoi(text.c_str() + at + 17);
      break;
    }
  }
}

LatencyServer::~LatencyServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (out_) std::fclose(out_);
}

}  // namespace tour
