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
// Shards: curl 7.88 walks all of a multi handle's connections to the same
// host for every transfer it starts (looking for an idle one) and all of its
// connections for every transfer it removes; at 2,000 connections that is most
// of its cost per request. So a CurlMulti whose limit is large and has no
// per-host limit spreads its transfers over several CURLM handles ("shards",
// about 128 connections each), each with its own share of the limit (the
// shares add up to the limit), its connection cache and its timer; a transfer
// goes to the shard with the most free room, so no transfer ever waits inside
// curl for a connection while another shard has room, and connections are
// still reused within a shard. With a per-host limit or a limit of at most
// 256 (the default is 100) there is one shard, as in curl's examples.
//
// Ownership: CurlMulti owns its CURLM handles and a pool of idle easy handles; a
// Transfer holds one easy handle from that pool while it lives and gives it
// back when it goes, so a session's requests reuse easy handles instead of
// making and freeing one each. The pool is shared with the transfers, so a
// transfer that outlives its CurlMulti still returns its handle safely; the
// last owner frees the idle handles.
//
// Options: the pool sets the options all of a session's transfers share once
// per handle (its `setup`, after curl_easy_init and after a reset); a transfer
// sets the per-transfer ones (see Transfer::set_other_options) every time. A
// handle goes back to the pool as it is when its transfer set nothing else,
// and ended (not stopped midway); otherwise it is reset (curl_easy_reset) and
// set up again. Skipping the reset saves it and setting the shared options
// again (3K instructions a request).
//
// Sockets: curl's sockets are watched in an epoll set of the CurlMulti's own,
// which the loop watches through one uv_poll_t (Linux only, as the rest of
// the library). A uv_poll_t per socket cost libuv 7 epoll_ctl calls and an
// ioctl per connection (a check when made, two calls per change of interest,
// one when stopped); the set costs one epoll_ctl per change (an ADD, a MOD
// from writable to readable once connected) and a DEL when curl closes the
// socket (CURLOPT_CLOSESOCKETFUNCTION), and one epoll_wait per loop
// iteration in which any socket is ready. curl stops watching a connection
// while it sits idle in its cache (CURL_POLL_REMOVE) and watches it again
// when a later transfer reuses it: the set keeps watching an idle
// connection's input, so that reuse costs no system call, and drops it
// should it become readable while idle (the server closed it). An event
// carries the socket's number and an id, so that an event for a socket
// closed earlier in the same batch (whose number a new socket may have taken)
// is ignored. The uv handles (the set's poll, the shards' timers, the pacer's
// idle and check handles) are each owned by a small heap object freed only in
// its close callback, so a handle may finish closing after its CurlMulti is
// gone.
//
// Pacing new connections: curl starts every transfer added to a CURLM in the
// next action on it (its timer's, at 0 ms), opening their connections one
// after another (~50 us each here: 13 system calls), and a new socket's
// writability (when curl sends the request) is seen only at the loop's next
// poll. With all shards' timers due in one pass of libuv's timers, 2,000
// connections were opened before the first request went out, and the first
// answers came back 100 ms after the last connect instead of the first. So
// once an action has opened connections, the timer actions of other shards
// due before the loop has polled again wait for the idle phase of the next
// loop iteration (after that poll, and just before the next one, which sees
// the sockets they open), until one of them opens connections: connecting one
// shard's transfers and sending the previous shard's requests overlap. (A
// check handle tells that the loop has polled; the idle handle keeps the poll
// from blocking while actions wait.) Actions that open no connection
// (transfers on reused connections, the steady state) and a session of one
// shard are not delayed; a transfer waiting with its shard is in curl all
// along, so cancelling it removes it from curl at once, and its timeout
// counts from when the request was made (it runs outside curl).
//
#include <curl/curl.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

namespace asyncio {
class EventLoop;
}

namespace asyncio::http::detail {

class CurlMulti;
struct CurlShard;

/// A curl easy handle and the buffer curl writes its error messages to
/// (CURLOPT_ERRORBUFFER, set once), kept together by the pool.
struct EasyHandle {
  CURL* curl = nullptr;
  char error[CURL_ERROR_SIZE] = {};
};

/// Idle easy handles of one CurlMulti, ready for the next transfer.
class EasyPool {
 public:
  /// `setup` sets the options every transfer shares (called on each new or reset handle).
  EasyPool(std::size_t max_idle, std::function<void(CURL*)> setup) : max_idle_(max_idle), setup_(std::move(setup)) {}
  EasyPool(const EasyPool&) = delete;
  EasyPool& operator=(const EasyPool&) = delete;
  ~EasyPool();
  /// An idle handle, or a new one; with the options every transfer shares
  /// and an empty error message.
  EasyHandle* acquire();
  /// Keeps `easy` for the next acquire() (frees it when full): reset and set
  /// up again if `reset`, else with its pointers to the transfer cleared.
  void release(EasyHandle* easy, bool reset) noexcept;

 private:
  void set_up(EasyHandle* easy) noexcept;
  static void free(EasyHandle* easy) noexcept;
  std::vector<EasyHandle*> idle_;
  std::size_t max_idle_;
  std::function<void(CURL*)> setup_;
};

/// One transfer: holds a curl easy handle from its CurlMulti's pool.
/// Subclasses set the options and receive the end through finished().
class Transfer {
 public:
  explicit Transfer(CurlMulti& multi);
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  /// Removes the handle from its multi (if still running) and gives it back to the pool.
  virtual ~Transfer();

  CURL* easy() const noexcept { return easy_->curl; }
  /// curl's message about how the transfer failed ("" if none).
  const char* error_message() const noexcept { return easy_->error; }
  bool running() const noexcept { return multi_ != nullptr; }
  /// Adds the handle to `multi`: curl starts it on the next socket action.
  void start(CurlMulti& multi);
  /// Removes the handle from its multi at once, if running (cancellation).
  void stop() noexcept;

 protected:
  /// The options a transfer sets every time (a handle from the pool keeps the
  /// last transfer's values; EasyPool::release clears the pointers among
  /// them): CURLOPT_PRIVATE (set here), CURLOPT_OPENSOCKETDATA and
  /// CLOSESOCKETDATA (set by start), and a subclass's CURLU,
  /// HEADERDATA, WRITEDATA, HTTPHEADER, FOLLOWLOCATION, MAXREDIRS and BUFFERSIZE.
  /// (CURLOPT_ERRORBUFFER is the pool's: error_message().)
  /// A subclass that sets any other option calls set_other_options(), so
  /// that the handle is reset before the next transfer.
  void set_other_options() noexcept { reset_ = true; }

  /// The transfer ended with `code` (CURLE_OK or an error), or
  /// `session_closed` when its session was closed first. Called from a libuv
  /// callback or from CurlMulti's destructor; must not throw.
  virtual void finished(CURLcode code, bool session_closed) noexcept = 0;

 private:
  friend class CurlMulti;
  std::shared_ptr<EasyPool> pool_;
  EasyHandle* easy_;
  CurlMulti* multi_ = nullptr;
  Transfer* prev_ = nullptr;  // in its CurlMulti's list of running transfers
  Transfer* next_ = nullptr;
  CurlShard* shard_ = nullptr;  // the CURLM it is added to, while running
  bool reset_ = false;  // reset the handle when it goes back (see set_other_options)
};

/// curl's multi interface on the event loop (one per ClientSession): one or
/// more CURLM handles (shards, see above).
class CurlMulti {
 public:
  /// `max_total` / `max_host`: connections at most, in all and to one host
  /// (0: none); `setup`: the options all transfers share (see EasyPool).
  CurlMulti(EventLoop& loop, long max_total, long max_host, std::function<void(CURL*)> setup = {});
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;
  /// Ends the transfers still running (finished(..., true)), closes curl's
  /// connections and the uv handles.
  ~CurlMulti();

  std::size_t running() const noexcept { return running_count_; }
  /// How many CURLM handles it spreads its transfers over.
  std::size_t shards() const noexcept { return shards_.size(); }

 private:
  friend class Transfer;
  friend class EasyPool;
  friend struct CurlShard;
  /// One of curl's sockets, as the epoll set watches it.
  struct Socket {
    CurlShard* shard;  // the CURLM that watches it
    std::uint32_t id;  // in its epoll events: tells a stale event from this socket's (fd numbers are reused)
    std::uint32_t events = 0;  // what the epoll set watches (EPOLLIN | EPOLLOUT), when `added`
    bool added = false;  // in the epoll set
    bool wanted = false;  // curl watches it (else it sits idle in curl's cache)
    bool ours = true;  // opened by open_socket (else curl's own, its resolver's: forgotten on CURL_POLL_REMOVE)
  };
  struct Readiness;
  struct Pacer;
  void add(Transfer& t);
  void remove(Transfer& t) noexcept;
  static curl_socket_t open_socket(void* shard, curlsocktype purpose, curl_sockaddr* address);
  static int close_socket(void* shard, curl_socket_t s);
  static int on_socket(CURL* easy, curl_socket_t s, int what, void* shard, void* socketp);
  /// Sets what the epoll set watches on `fd` (0: takes it out); -1 if epoll_ctl failed.
  int watch(curl_socket_t fd, Socket& s, std::uint32_t events) noexcept;
  /// Takes `fd` out of the epoll set, if in it; false if it was no longer
  /// there (closed without close_socket, see on_socket).
  bool unwatch(curl_socket_t fd, Socket& s) noexcept;
  /// Takes `fd` out of the epoll set and forgets it.
  void forget(curl_socket_t fd) noexcept;
  /// forget() for a socket open_socket made, closed now: live_sockets() counts one less.
  void forget_ours(curl_socket_t fd) noexcept;
  /// The epoll set is readable: lets curl act on each ready socket.
  void dispatch() noexcept;
  static int on_timer(CURLM* multi, long timeout_ms, void* shard);
  /// `shard`'s timer expired: lets curl act on its timeouts (and start the
  /// transfers added to it), unless connections were opened since the loop
  /// last polled; then the action waits (see Pacing).
  void timer_action(CurlShard& shard) noexcept;
  /// The loop's idle phase: if it has polled since connections were last
  /// opened, runs the timer actions that waited, until one opens connections.
  void run_deferred() noexcept;
  /// Lets curl act on `s` (or its timeouts) in `shard`.
  void socket_action(CurlShard& shard, curl_socket_t s, int flags) noexcept;
  void read_info(CurlShard& shard) noexcept;

  EventLoop& loop_;
  std::vector<std::unique_ptr<CurlShard>> shards_;
  std::shared_ptr<EasyPool> pool_;
  Transfer* running_ = nullptr;  // the running transfers (a list through Transfer::prev_/next_)
  std::size_t running_count_ = 0;
  /// Shards whose timer action waits (see Pacing), in order (each at
  /// most once: CurlShard::deferred); room for all shards is reserved.
  std::vector<CurlShard*> deferred_;
  std::size_t opened_ = 0;  // sockets opened since the loop last polled (reset in its check phase)
  Pacer* pacer_ = nullptr;  // freed in its handles' close callbacks
  /// curl's sockets: those it opened through open_socket (until it closes
  /// them), and its own that it asked us to watch (until CURL_POLL_REMOVE).
  std::unordered_map<curl_socket_t, Socket> sockets_;
  std::uint32_t next_id_ = 0;
  Readiness* readiness_ = nullptr;  // freed in its poll handle's close callback
};

}  // namespace asyncio::http::detail
