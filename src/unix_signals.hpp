// Signal watchers of one loop (uv_signal_t), behind loop.add_signal_handler
// and the Runner's Ctrl-C handling. Library internals (src/ only).
#pragma once
#include <functional>
#include <map>
#include <memory>

#include "asyncio/events.hpp"

namespace asyncio::detail {

/// One uv_signal_t per signal number watched by the loop, each owned by a
/// Watcher's UvHandle (freed in the close callback). A signal runs the loop's handler for
/// it (scheduled as a callback, CPython's `_handle_signal`) when there is one,
/// otherwise the fallback (the Runner's SIGINT handler, called at once).
///
/// Watchers are unreferenced: they never keep libuv alive nor stop virtual
/// time from jumping; the loop looks for signals itself (EventLoop::poll_signals).
/// Loop thread only.
class UnixSignals {
 public:
  explicit UnixSignals(EventLoop& loop);
  UnixSignals(const UnixSignals&) = delete;
  UnixSignals& operator=(const UnixSignals&) = delete;
  /// Closes every watcher; libuv restores SIG_DFL for signals nobody watches.
  ~UnixSignals();

  /// The user's handler for `sig` (validated by the caller).
  void set_handler(int sig, Handle handle);
  /// Removes the user's handler; false if there was none.
  bool remove_handler(int sig);
  /// Installs `fn` as the fallback of `sig`, unless the process already has a
  /// handler of its own for it (its disposition is not SIG_DFL) or this is not
  /// the main thread: then returns false and installs nothing.
  bool set_fallback_if_default(int sig, std::function<void()> fn);
  /// Removes the fallback of `sig`.
  void clear_fallback(int sig);

 private:
  struct Watcher;
  Watcher& watcher(int sig);
  void drop_if_unused(int sig);

  EventLoop& loop_;
  std::map<int, std::unique_ptr<Watcher>> watchers_;
};

/// The handler a queued signal delivery runs, or null when `r` is not one
/// (debug mode's description of a slow callback).
const HandleBase* signal_delivery_handle(const Runnable* r) noexcept;

/// True on the process's main thread (signals are only handled there, as Python).
bool on_main_thread() noexcept;

}  // namespace asyncio::detail
