#pragma once
// A watchdog for real-clock tests: a scenario that hangs fails the test
// (the process exits with a message naming it) instead of stalling CI.
// No assertion on durations is made with it: the limit is only a hang detector,
// far above any plausible run time.
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include "asyncio/runners.hpp"
#include "sanitized.hpp"

namespace test {

namespace watchdog_detail {

inline std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

/// The signal masks of /proc/PID[/task/TID]/status: "SigPnd=... ShdPnd=... SigBlk=...".
inline std::string signal_masks(const std::string& status_path) {
  std::ifstream in(status_path);
  std::string line, out;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    const std::string key = line.substr(0, colon);
    if (colon == std::string::npos || (key != "SigPnd" && key != "ShdPnd" && key != "SigBlk")) continue;
    const auto value = line.find_first_not_of(" \t", colon + 1);
    out += (out.empty() ? "" : " ") + key + "=" + (value == std::string::npos ? "" : line.substr(value));
  }
  return out;
}

/// "pid (comm) S ppid ..." -> {state, ppid}; {'?', -1} when unreadable.
inline std::pair<char, long> state_and_parent(const std::string& stat) {
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return {'?', -1};
  std::istringstream rest(stat.substr(close + 2));
  char state = '?';
  long ppid = -1;
  rest >> state >> ppid;
  return {state, ppid};
}

/// What a hang looks like from outside: this process's threads and its child
/// processes, each with its state and the kernel function it sleeps in
/// (/proc/PID/wchan), the threads with their pending and blocked signals, so
/// that a hang that does not reproduce leaves a trace in the CI log (a child
/// stuck between fork and exec, a child exited and never reaped, a thread in a
/// lock, a signal pending and blocked...).
inline void describe_process_tree() {
  const long self = static_cast<long>(::getpid());
  const std::string task_dir = "/proc/" + std::to_string(self) + "/task";
  if (DIR* d = ::opendir(task_dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      const std::string base = task_dir + "/" + e->d_name;
      std::fprintf(stderr, "watchdog:   thread %s %s state %c in %s; %s\n", e->d_name,
                   read_line(base + "/comm").c_str(), state_and_parent(read_line(base + "/stat")).first,
                   read_line(base + "/wchan").c_str(), signal_masks(base + "/status").c_str());
    }
    ::closedir(d);
  }
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      const std::string base = std::string("/proc/") + e->d_name;
      const auto [state, ppid] = state_and_parent(read_line(base + "/stat"));
      if (ppid != self) continue;
      std::string cmdline = read_line(base + "/cmdline");
      for (char& c : cmdline) c = c == '\0' ? ' ' : c;
      std::fprintf(stderr, "watchdog:   child %s (%s) state %c in %s: %s\n", e->d_name,
                   read_line(base + "/comm").c_str(), state, read_line(base + "/wchan").c_str(), cmdline.c_str());
    }
    ::closedir(d);
  }
}

}  // namespace watchdog_detail

class Watchdog {
 public:
  explicit Watchdog(std::string what, std::chrono::seconds limit = std::chrono::seconds(30))
      : what_(std::move(what)), thread_([this, limit] {
          std::unique_lock lock(mutex_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: '%s' still running after %lld s: the loop hangs\n", what_.c_str(),
                         static_cast<long long>(limit.count()));
            watchdog_detail::describe_process_tree();
            std::fflush(stderr);
            std::_Exit(3);
          }
        }) {
    // Under ThreadSanitizer (clang 14), a SIGCHLD that reaches the loop's
    // thread is now and then never handed to libuv's handler: the child stays
    // a zombie and the loop sleeps in epoll_wait with no signal pending or
    // blocked (Subprocess.StderrMergedIntoStdout, about 1 run in 200; never in
    // 2,400 runs without TSan; 1 in 16 when only the loop's thread could take
    // it). A signal that arrives while a thread waits in an intercepted call
    // (this thread's condition variable) is handled at once. So in the TSan
    // build the thread that runs the scenario blocks SIGCHLD while the
    // watchdog runs, and the kernel hands it to the watchdog's thread, which
    // runs libuv's handler; the loop reaps the child as always.
#ifdef ASYNCIO_TEST_TSAN
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &saved_mask_);
#endif
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
#ifdef ASYNCIO_TEST_TSAN
    pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
#endif
  }

 private:
  std::string what_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
#ifdef ASYNCIO_TEST_TSAN
  sigset_t saved_mask_{};  // the scenario thread's mask before it blocked SIGCHLD
#endif
};

/// Runs `main` on a fresh loop on the real clock under a watchdog.
template <class T>
T run_real(std::string what, asyncio::Coro<T> main, std::chrono::seconds limit = std::chrono::seconds(30)) {
  Watchdog dog(std::move(what), limit);
  return asyncio::run(std::move(main), asyncio::RunOptions{.debug = false, .virtual_time = false, .trace_path = {}});
}

}  // namespace test
