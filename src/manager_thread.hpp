#pragma once
// The thread that drives a pool's workers (the process pool's manager, the MPI pool's bridge)
// and the eventfd that wakes it from poll() when work is submitted or the pool shuts down.
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace asyncio::detail {

class ManagerThread {
 public:
  ManagerThread() = default;
  ManagerThread(const ManagerThread&) = delete;
  ManagerThread& operator=(const ManagerThread&) = delete;
  ~ManagerThread() {
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  /// Opens the eventfd and runs `body` on a new thread named `name` (at most 15 characters).
  /// Throws std::system_error if the eventfd cannot be made. The caller serialises start()
  /// with started().
  template <class Body>
  void start(const char* name, Body body) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    thread_ = std::thread([name, body = std::move(body)]() mutable {
      pthread_setname_np(pthread_self(), name);
      body();
    });
  }
  bool started() const noexcept { return wake_fd_ >= 0; }
  /// The descriptor to poll for POLLIN.
  int wake_fd() const noexcept { return wake_fd_; }

  /// Wakes the thread's poll() (any thread).
  void wake() const noexcept {
    std::uint64_t one = 1;
    while (::write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }
  /// Consumes the wake-ups, after poll() found the descriptor readable (the thread itself).
  void drain() const noexcept {
    std::uint64_t count;
    while (::read(wake_fd_, &count, sizeof count) < 0 && errno == EINTR) {
    }
  }

  /// shutdown(wait=true): waits for the thread, unless called from it (a done-callback).
  void join() {
    std::lock_guard lock(join_mutex_);
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }
  /// The pool's destructor, after join(): a thread that destroyed its own pool (from a
  /// done-callback) runs on with its shared state.
  void detach() {
    std::lock_guard lock(join_mutex_);
    if (thread_.joinable()) thread_.detach();
  }

 private:
  int wake_fd_ = -1;
  std::thread thread_;
  std::mutex join_mutex_;
};

}  // namespace asyncio::detail
