#pragma once
// curl's multi-socket interface driven by our event loop (private header).
//
// The pattern of curl's docs/examples/multi-uv.c and hiperfifo.c: curl tells
// us which sockets to watch (CURLMOPT_SOCKETFUNCTION -> one uv_poll_t per
// socket) and when to time out (CURLMOPT_TIMERFUNCTION -> one uv_timer_t);
// libuv calls back, we call curl_multi_socket_action(), then collect the
// finished transfers with curl_multi_info_read(). All of it is in
// curl_multi.cpp; the rest of the client never sees a uv handle.
//
// Ownership: CurlMulti owns the CURLM; a Transfer owns one CURL easy handle.
// Each uv handle is owned by a small heap object freed only in its close
// callback, so a handle may finish closing after its CurlMulti is gone.
//
// Invariants: a Transfer is in `running_` exactly while its easy handle is
// added to the multi handle, and exactly then it holds one begin_external()
// of the loop (virtual time never jumps while a request is in flight).
#include <curl/curl.h>

#include <cstddef>
#include <unordered_set>

namespace asyncio {
class EventLoop;
}

namespace asyncio::http::detail {

class CurlMulti;

/// One transfer: owns a curl easy handle. Subclasses set the options and
/// receive the end through finished().
class Transfer {
 public:
  Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  /// Removes the handle from its multi (if still running) and frees it.
  virtual ~Transfer();

  CURL* easy() const noexcept { return easy_; }
  bool running() const noexcept { return multi_ != nullptr; }
  /// Adds the handle to `multi`: curl starts it on the next socket action.
  void start(CurlMulti& multi);
  /// Removes the handle from its multi at once, if running (cancellation).
  void stop() noexcept;

 protected:
  /// The transfer ended with `code` (CURLE_OK or an error), or
  /// `session_closed` when its session was closed first. Called from a libuv
  /// callback or from CurlMulti's destructor; must not throw.
  virtual void finished(CURLcode code, bool session_closed) noexcept = 0;

 private:
  friend class CurlMulti;
  CURL* easy_;
  CurlMulti* multi_ = nullptr;
};

/// A curl multi handle on the event loop (one per ClientSession).
class CurlMulti {
 public:
  /// `max_total` / `max_host`: CURLMOPT_MAX_TOTAL_CONNECTIONS / _HOST_ (0: none).
  CurlMulti(EventLoop& loop, long max_total, long max_host);
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;
  /// Ends the transfers still running (finished(..., true)), closes curl's
  /// connections and the uv handles.
  ~CurlMulti();

  std::size_t running() const noexcept { return running_.size(); }

 private:
  friend class Transfer;
  struct SocketWatcher;
  struct Timer;
  void add(Transfer& t);
  void remove(Transfer& t) noexcept;
  static int on_socket(CURL* easy, curl_socket_t s, int what, void* self, void* watcher);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  /// Lets curl act on `s` (or its timeouts); true when a transfer finished.
  bool socket_action(curl_socket_t s, int flags) noexcept;
  bool read_info() noexcept;

  EventLoop& loop_;
  CURLM* multi_;
  Timer* timer_;
  std::unordered_set<Transfer*> running_;
  std::unordered_set<SocketWatcher*> watchers_;
};

}  // namespace asyncio::http::detail
