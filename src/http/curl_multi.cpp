// curl's multi-socket interface on the event loop: the one file where curl
// meets libuv (curl's docs/examples/multi-uv.c and hiperfifo.c pattern; see
// curl_multi.hpp).
#include "http/curl_multi.hpp"

#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "asyncio/events.hpp"
#include "asyncio/http/client.hpp"

namespace asyncio::http::detail {
namespace {

std::atomic<int> g_live_easy{0};
std::atomic<int> g_allocated_easy{0};
std::atomic<int> g_live_sockets{0};

}  // namespace

int live_easy_handles() noexcept { return g_live_easy.load(std::memory_order_relaxed); }
int allocated_easy_handles() noexcept { return g_allocated_easy.load(std::memory_order_relaxed); }
int live_sockets() noexcept { return g_live_sockets.load(std::memory_order_relaxed); }

// ---- EasyPool ------------------------------------------------------------------

EasyPool::~EasyPool() {
  for (EasyHandle* e : idle_) free(e);
}

void EasyPool::free(EasyHandle* e) noexcept {
  curl_easy_cleanup(e->curl);
  delete e;
  g_allocated_easy.fetch_sub(1, std::memory_order_relaxed);
}

EasyHandle* EasyPool::acquire() {
  EasyHandle* e = nullptr;
  if (!idle_.empty()) {
    e = idle_.back();
    idle_.pop_back();
    e->error[0] = '\0';
  } else {
    auto made = std::make_unique<EasyHandle>();
    made->curl = curl_easy_init();
    if (made->curl == nullptr) throw std::bad_alloc();
    e = made.release();
    g_allocated_easy.fetch_add(1, std::memory_order_relaxed);
    set_up(e);
  }
  g_live_easy.fetch_add(1, std::memory_order_relaxed);
  return e;
}

void EasyPool::set_up(EasyHandle* e) noexcept {
  curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);  // no SIGPIPE juggling, not even in curl_easy_cleanup
  curl_easy_setopt(e->curl, CURLOPT_ERRORBUFFER, e->error);
  curl_easy_setopt(e->curl, CURLOPT_OPENSOCKETFUNCTION, &CurlMulti::open_socket);
  curl_easy_setopt(e->curl, CURLOPT_CLOSESOCKETFUNCTION, &CurlMulti::close_socket);
  if (setup_) setup_(e->curl);
}

void EasyPool::release(EasyHandle* e, bool reset) noexcept {
  g_live_easy.fetch_sub(1, std::memory_order_relaxed);
  if (idle_.size() < max_idle_) {
    try {
      idle_.push_back(e);
      if (reset) {
        curl_easy_reset(e->curl);  // every option back to its default
        set_up(e);
      } else {  // the next transfer sets these anew: no pointer into a gone transfer meanwhile
        curl_easy_setopt(e->curl, CURLOPT_PRIVATE, nullptr);
        curl_easy_setopt(e->curl, CURLOPT_CURLU, nullptr);
        curl_easy_setopt(e->curl, CURLOPT_HEADERDATA, nullptr);
        curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, nullptr);
        curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, nullptr);
      }
      return;
    } catch (...) {  // out of memory: free it instead
    }
  }
  free(e);
}

// ---- Transfer ------------------------------------------------------------------

Transfer::Transfer(CurlMulti& multi) : pool_(multi.pool_), easy_(pool_->acquire()) {
  curl_easy_setopt(easy_->curl, CURLOPT_PRIVATE, this);
}

Transfer::~Transfer() {
  stop();
  pool_->release(easy_, reset_);
}

void Transfer::start(CurlMulti& multi) { multi.add(*this); }

void Transfer::stop() noexcept {
  if (multi_ == nullptr) return;
  reset_ = true;  // stopped midway: a fresh start for the next transfer
  multi_->remove(*this);
}

// ---- the uv handles, each freed only in its close callback ---------------------

/// A uv_poll_t watching one of curl's sockets (curl_multi_assign'ed to it
/// while curl watches the socket).
struct CurlMulti::SocketWatcher {
  uv_poll_t poll;
  CurlShard* owner;  // the CURLM that watches it
  curl_socket_t fd;
  int events = 0;  // what the poll handle watches now (UV_READABLE | UV_WRITABLE), 0: stopped
  bool wanted = false;  // whether curl watches the socket (else it sits idle in curl's cache)

  static SocketWatcher* make(CurlShard* owner, curl_socket_t fd);
  /// Watches `what` for curl (each change costs libuv two epoll_ctl calls).
  void watch(int what) noexcept {
    wanted = true;
    if (what == events) return;
    if (what == 0) return stop_idle();  // CURL_POLL_NONE
    events = what;
    uv_poll_start(&poll, what, &SocketWatcher::on_poll);
  }
  /// curl no longer watches the socket (an idle connection in its cache). A
  /// poll for readability is left running, so that reusing the connection for
  /// the next request costs no system call; should the socket become readable
  /// while idle (the server closed it), it is stopped then (stop_idle).
  void unwatch() noexcept {
    wanted = false;
    if (events != UV_READABLE) stop_idle();
  }
  void stop_idle() noexcept {
    events = 0;
    uv_poll_stop(&poll);
  }
  void close() noexcept {
    uv_close(reinterpret_cast<uv_handle_t*>(&poll),
             [](uv_handle_t* h) { delete static_cast<SocketWatcher*>(h->data); });
  }
  static void on_poll(uv_poll_t* h, int status, int events);
};

/// The uv_timer_t that a shard's CURLMOPT_TIMERFUNCTION arms.
struct CurlTimer {
  uv_timer_t timer;
  CurlShard* owner;
};

/// One CURLM handle with its timer, and its share of the connections.
struct CurlShard {
  CurlMulti* owner;
  CURLM* multi;
  CurlTimer* timer;
  std::size_t room;  // transfers it may run at once (its share of the limit; 0: no limit)
  std::size_t running = 0;

  CurlShard(CurlMulti* o, long max_total, long max_host) : owner(o), multi(curl_multi_init()), timer(new CurlTimer{}) {
    if (multi == nullptr) {
      delete timer;
      throw std::bad_alloc();
    }
    room = static_cast<std::size_t>(max_total);
    timer->owner = this;
    uv_timer_init(owner->loop_.uv_loop(), &timer->timer);
    timer->timer.data = timer;
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_total);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_host);
    // Keep as many idle connections as may be in use at once (curl's default is 4x
    // the easy handles added, which drops connections a limit of 100 would reuse).
    if (max_total > 0) curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, max_total);
  }
  CurlShard(const CurlShard&) = delete;
  CurlShard& operator=(const CurlShard&) = delete;
  /// Closes curl's connections (close_socket closes their watchers), then the timer.
  ~CurlShard() {
    curl_multi_cleanup(multi);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer->timer),
             [](uv_handle_t* h) { delete static_cast<CurlTimer*>(h->data); });
  }
  /// Free room: how many more transfers it may run.
  std::size_t free_room() const noexcept { return room == 0 ? SIZE_MAX - running : room - running; }
};

CurlMulti::SocketWatcher* CurlMulti::SocketWatcher::make(CurlShard* owner, curl_socket_t fd) {
  auto* w = new SocketWatcher{{}, owner, fd};
  if (uv_poll_init_socket(owner->owner->loop_.uv_loop(), &w->poll, fd) != 0) {
    delete w;
    return nullptr;
  }
  w->poll.data = w;
  return w;
}

void CurlMulti::SocketWatcher::on_poll(uv_poll_t* h, int status, int events) {
  auto* w = static_cast<SocketWatcher*>(h->data);
  if (!w->wanted) return w->stop_idle();  // curl's connection check will find it closed
  int flags = 0;
  if (status < 0) flags |= CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  w->owner->owner->socket_action(*w->owner, w->fd, flags);
}

namespace {

/// How many CURLM handles share `max_total` connections (see curl_multi.hpp).
long shard_count(long max_total, long max_host) {
  constexpr long per_shard = 128;
  constexpr long most = 32;
  if (max_host > 0 || max_total <= 2 * per_shard) return 1;
  return std::min(most, (max_total + per_shard - 1) / per_shard);
}

}  // namespace

// ---- CurlMulti -------------------------------------------------------------------

CurlMulti::CurlMulti(EventLoop& loop, long max_total, long max_host, std::function<void(CURL*)> setup)
    : loop_(loop),
      pool_(std::make_shared<EasyPool>(max_total > 0 ? static_cast<std::size_t>(max_total) : 100, std::move(setup))) {
  long n = shard_count(max_total, max_host);
  shards_.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {  // shares that add up to max_total
    long share = max_total / n + (i < max_total % n ? 1 : 0);
    shards_.push_back(std::make_unique<CurlShard>(this, share, max_host));
  }
}

CurlMulti::~CurlMulti() {
  std::vector<Transfer*> left(running_.begin(), running_.end());
  for (Transfer* t : left) {
    remove(*t);
    t->finished(CURLE_OK, true);
  }
  shards_.clear();  // closes the cached connections (close_socket closes their watchers)
  for (auto& [fd, w] : watchers_) w->close();  // none left, unless curl closed a socket itself
  for (SocketWatcher* w : foreign_) w->close();
}

void CurlMulti::add(Transfer& t) {
  CurlShard* shard = shards_.front().get();  // the one with the most free room
  for (auto& s : shards_)
    if (s->free_room() > shard->free_room()) shard = s.get();
  // Sockets opened for this transfer are watched through its shard.
  curl_easy_setopt(t.easy_->curl, CURLOPT_OPENSOCKETDATA, shard);
  curl_easy_setopt(t.easy_->curl, CURLOPT_CLOSESOCKETDATA, shard);
  if (CURLMcode rc = curl_multi_add_handle(shard->multi, t.easy_->curl); rc != CURLM_OK)
    throw ClientError(std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc), {});
  running_.insert(&t);
  ++shard->running;
  t.multi_ = this;
  t.shard_ = shard;
  loop_.begin_external();
}

void CurlMulti::remove(Transfer& t) noexcept {
  curl_multi_remove_handle(t.shard_->multi, t.easy_->curl);
  running_.erase(&t);
  --t.shard_->running;
  t.multi_ = nullptr;
  t.shard_ = nullptr;
  loop_.end_external();
}

// curl's socket() and close(): each socket gets its watcher for its whole life
// (counted, so that tests can prove that no socket leaks). curl stores the
// callbacks in the connection, so a cached connection is closed through the
// multi that opened it.
curl_socket_t CurlMulti::open_socket(void* shard_p, curlsocktype, curl_sockaddr* address) {
  auto* shard = static_cast<CurlShard*>(shard_p);
  CurlMulti* self = shard->owner;
  curl_socket_t fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd == CURL_SOCKET_BAD) return fd;
  g_live_sockets.fetch_add(1, std::memory_order_relaxed);
  SocketWatcher* w = SocketWatcher::make(shard, fd);
  if (w != nullptr) {
    try {
      self->watchers_.emplace(fd, w);
      return fd;
    } catch (...) {
      w->close();
    }
  }
  g_live_sockets.fetch_sub(1, std::memory_order_relaxed);
  ::close(fd);
  return CURL_SOCKET_BAD;
}

int CurlMulti::close_socket(void* shard_p, curl_socket_t fd) {
  CurlMulti* self = static_cast<CurlShard*>(shard_p)->owner;
  if (auto it = self->watchers_.find(fd); it != self->watchers_.end()) {
    it->second->close();  // stops polling before the fd number can be reused
    self->watchers_.erase(it);
  }
  g_live_sockets.fetch_sub(1, std::memory_order_relaxed);
  return ::close(fd);
}

int CurlMulti::on_socket(CURL*, curl_socket_t s, int what, void* shard_p, void* watcher_p) {
  auto* shard = static_cast<CurlShard*>(shard_p);
  CurlMulti* self = shard->owner;
  auto* w = static_cast<SocketWatcher*>(watcher_p);
  if (w == nullptr) {
    if (auto it = self->watchers_.find(s); it != self->watchers_.end()) {
      w = it->second;
    } else if (what != CURL_POLL_REMOVE) {  // a socket curl made itself (its resolver's)
      w = SocketWatcher::make(shard, s);
      if (w == nullptr) return -1;
      try {
        self->foreign_.insert(w);
      } catch (...) {
        w->close();
        return -1;
      }
    } else {
      return 0;
    }
    curl_multi_assign(shard->multi, s, w);
  }
  if (what == CURL_POLL_REMOVE) {
    curl_multi_assign(shard->multi, s, nullptr);
    if (self->foreign_.erase(w) != 0) {
      w->close();
    } else {
      w->unwatch();  // idle in curl's cache: kept until curl closes the socket
    }
    return 0;
  }
  int events = 0;
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  w->watch(events);
  return 0;
}

int CurlMulti::on_timer(CURLM*, long timeout_ms, void* shard_p) {
  auto* shard = static_cast<CurlShard*>(shard_p);
  if (timeout_ms < 0) {
    uv_timer_stop(&shard->timer->timer);
  } else {
    // Even for 0 ms, act from the timer rather than from inside curl (hiperfifo.c).
    uv_timer_start(
        &shard->timer->timer,
        [](uv_timer_t* h) {
          // A transfer that ends here (a reused connection can send and read a
          // whole response inside one action) makes a task ready; the loop's
          // ready guard (events.cpp) then keeps uv_run from blocking in epoll.
          CurlShard* s = static_cast<CurlTimer*>(h->data)->owner;
          s->owner->socket_action(*s, CURL_SOCKET_TIMEOUT, 0);
        },
        static_cast<std::uint64_t>(timeout_ms), 0);
  }
  return 0;
}

void CurlMulti::socket_action(CurlShard& shard, curl_socket_t s, int flags) noexcept {
  int still_running = 0;
  curl_multi_socket_action(shard.multi, s, flags, &still_running);
  read_info(shard);
}

void CurlMulti::read_info(CurlShard& shard) noexcept {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(shard.multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    CURLcode code = msg->data.result;
    remove(*t);
    t->finished(code, false);
  }
}

}  // namespace asyncio::http::detail
