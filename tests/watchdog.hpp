#pragma once
// A watchdog for real-clock tests: a scenario that hangs fails the test
// (the process exits with a message naming it) instead of stalling CI.
// No assertion on durations is made with it: the limit is only a hang detector,
// far above any plausible run time.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "asyncio/runners.hpp"

namespace test {

class Watchdog {
 public:
  explicit Watchdog(std::string what, std::chrono::seconds limit = std::chrono::seconds(30))
      : what_(std::move(what)), thread_([this, limit] {
          std::unique_lock lock(mutex_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: '%s' still running after %lld s: the loop hangs\n", what_.c_str(),
                         static_cast<long long>(limit.count()));
            std::fflush(stderr);
            std::_Exit(3);
          }
        }) {}
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::string what_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

/// Runs `main` on a fresh loop on the real clock under a watchdog.
template <class T>
T run_real(std::string what, asyncio::Coro<T> main, std::chrono::seconds limit = std::chrono::seconds(30)) {
  Watchdog dog(std::move(what), limit);
  return asyncio::run(std::move(main), asyncio::RunOptions{.debug = false, .virtual_time = false, .trace_path = {}});
}

}  // namespace test
