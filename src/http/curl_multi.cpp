// curl's multi-socket interface on the event loop: the one file where curl
// meets libuv (curl's docs/examples/multi-uv.c and hiperfifo.c pattern; see
// curl_multi.hpp).
#include "http/curl_multi.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "asyncio/events.hpp"
#include "asyncio/http/client.hpp"
#include "http/heap.hpp"

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

/// The epoll set holding curl's sockets, and the uv_poll_t through which the
/// loop watches it (one for all the sockets of a CurlMulti).
struct CurlMulti::Readiness {
  uv_poll_t poll;
  int epfd;
  CurlMulti* owner;
  /// Closes the poll handle and the epoll set (libuv stops watching the set
  /// in uv_close itself), so that the sockets curl closes afterwards leave no
  /// set one by one; this is freed in the handle's close callback.
  void close() noexcept {
    uv_close(reinterpret_cast<uv_handle_t*>(&poll), [](uv_handle_t* h) { delete static_cast<Readiness*>(h->data); });
    ::close(epfd);
    epfd = -1;
  }
  static void on_poll(uv_poll_t* h, int status, int events);
};

/// The pacer's handles (see Pacing in curl_multi.hpp): the check handle,
/// active once connections were opened, tells that the loop has polled since
/// (its check phase follows the poll); the idle handle, active while timer
/// actions wait, runs them in the idle phase (before the poll of the same
/// loop iteration, which then sees their new sockets, and which it keeps from
/// blocking). Both are unreferenced (they never keep the loop alive) and
/// closed together; freed when both are closed.
struct CurlMulti::Pacer {
  uv_idle_t idle;
  uv_check_t check;
  CurlMulti* owner;
  int open = 2;

  /// Connections were opened: the next check phase forgets them.
  void opened() noexcept {
    uv_check_start(&check, [](uv_check_t* h) {
      static_cast<Pacer*>(h->data)->owner->opened_ = 0;
      uv_check_stop(h);
    });
  }
  /// Whether timer actions wait (for the idle phase after the next poll).
  void waiting(bool any) noexcept {
    if (any) {
      uv_idle_start(&idle, [](uv_idle_t* h) { static_cast<Pacer*>(h->data)->owner->run_deferred(); });
    } else {
      uv_idle_stop(&idle);
    }
  }
  void close() noexcept {
    auto closed = [](uv_handle_t* h) {
      auto* self = static_cast<Pacer*>(h->data);
      if (--self->open == 0) delete self;
    };
    uv_close(reinterpret_cast<uv_handle_t*>(&idle), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&check), closed);
  }
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
  bool deferred = false;  // its timer action waits (CurlMulti::deferred_)

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

void CurlMulti::Readiness::on_poll(uv_poll_t* h, int, int) {
  static_cast<Readiness*>(h->data)->owner->dispatch();
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
  int epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  readiness_ = new Readiness{{}, epfd, this};
  if (int rc = uv_poll_init(loop_.uv_loop(), &readiness_->poll, epfd); rc != 0) {
    ::close(epfd);
    delete readiness_;
    throw std::system_error(-rc, std::generic_category(), "uv_poll_init");
  }
  readiness_->poll.data = readiness_;
  uv_poll_start(&readiness_->poll, UV_READABLE, &Readiness::on_poll);
  try {
    pacer_ = new Pacer{{}, {}, this};
    uv_idle_init(loop_.uv_loop(), &pacer_->idle);
    uv_check_init(loop_.uv_loop(), &pacer_->check);
    for (auto* h : {reinterpret_cast<uv_handle_t*>(&pacer_->idle), reinterpret_cast<uv_handle_t*>(&pacer_->check)}) {
      h->data = pacer_;
      uv_unref(h);
    }
    long n = shard_count(max_total, max_host);
    shards_.reserve(static_cast<std::size_t>(n));
    deferred_.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) {  // shares that add up to max_total
      long share = max_total / n + (i < max_total % n ? 1 : 0);
      shards_.push_back(std::make_unique<CurlShard>(this, share, max_host));
    }
  } catch (...) {
    if (pacer_ != nullptr) pacer_->close();
    readiness_->close();
    throw;
  }
}

CurlMulti::~CurlMulti() {
  while (Transfer* t = running_) {
    remove(*t);
    t->finished(CURLE_OK, true);
  }
  deferred_.clear();
  pacer_->close();
  // The epoll set goes first, with its poll handle (and curl's resolver
  // sockets with it): closing 2,000 cached connections then costs no
  // EPOLL_CTL_DEL each, nor the kernel's removal from the set in close().
  readiness_->close();
  shards_.clear();  // closes the cached connections
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
  t.prev_ = nullptr;
  t.next_ = running_;
  if (running_ != nullptr) running_->prev_ = &t;
  running_ = &t;
  ++running_count_;
  ++shard->running;
  t.multi_ = this;
  t.shard_ = shard;
  loop_.begin_external();
}

void CurlMulti::remove(Transfer& t) noexcept {
  curl_multi_remove_handle(t.shard_->multi, t.easy_->curl);
  (t.prev_ != nullptr ? t.prev_->next_ : running_) = t.next_;
  if (t.next_ != nullptr) t.next_->prev_ = t.prev_;
  t.prev_ = t.next_ = nullptr;
  --running_count_;
  --t.shard_->running;
  t.multi_ = nullptr;
  t.shard_ = nullptr;
  loop_.end_external();
}

// curl's socket() and close(), so that each socket's place in the epoll set
// lives as long as the socket (counted, so that tests can prove that no
// socket leaks). curl stores the callbacks in the connection, so a cached
// connection is closed through the multi that opened it.
curl_socket_t CurlMulti::open_socket(void* shard_p, curlsocktype, curl_sockaddr* address) {
  auto* shard = static_cast<CurlShard*>(shard_p);
  CurlMulti* self = shard->owner;
  follow_heap();  // a new connection: curl is about to allocate for it
  curl_socket_t fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd == CURL_SOCKET_BAD) return fd;
  if (self->opened_++ == 0) self->pacer_->opened();
  try {
    self->sockets_.insert_or_assign(fd, Socket{shard, ++self->next_id_});
  } catch (...) {
    ::close(fd);
    return CURL_SOCKET_BAD;
  }
  g_live_sockets.fetch_add(1, std::memory_order_relaxed);
  return fd;
}

int CurlMulti::close_socket(void* shard_p, curl_socket_t fd) {
  static_cast<CurlShard*>(shard_p)->owner->forget_ours(fd);  // out of the epoll set before the fd number can be reused
  return ::close(fd);
}

void CurlMulti::forget_ours(curl_socket_t fd) noexcept {
  forget(fd);
  g_live_sockets.fetch_sub(1, std::memory_order_relaxed);
}

void CurlMulti::forget(curl_socket_t fd) noexcept {
  auto it = sockets_.find(fd);
  if (it == sockets_.end()) return;
  if (it->second.added && readiness_->epfd >= 0) ::epoll_ctl(readiness_->epfd, EPOLL_CTL_DEL, fd, nullptr);
  sockets_.erase(it);
}

bool CurlMulti::unwatch(curl_socket_t fd, Socket& s) noexcept {
  bool present = true;
  if (s.added && readiness_->epfd >= 0 && ::epoll_ctl(readiness_->epfd, EPOLL_CTL_DEL, fd, nullptr) != 0)
    present = errno != EBADF && errno != ENOENT;
  s.added = false;
  s.events = 0;
  return present;
}

int CurlMulti::watch(curl_socket_t fd, Socket& s, std::uint32_t events) noexcept {
  if (events == 0) {  // CURL_POLL_NONE, or idle: out of the set (an error would be reported even with no events)
    unwatch(fd, s);
    return 0;
  }
  if (s.added && s.events == events) return 0;
  if (readiness_->epfd < 0) return -1;  // the session is closing
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = (std::uint64_t{s.id} << 32) | static_cast<std::uint32_t>(fd);
  if (::epoll_ctl(readiness_->epfd, s.added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) {
    // Still in the set under an earlier socket of this number (a copy of it
    // outlived its close, in a forked child): take it over.
    if (s.added || errno != EEXIST || ::epoll_ctl(readiness_->epfd, EPOLL_CTL_MOD, fd, &ev) != 0) return -1;
  }
  s.added = true;
  s.events = events;
  return 0;
}

int CurlMulti::on_socket(CURL*, curl_socket_t fd, int what, void* shard_p, void*) {
  auto* shard = static_cast<CurlShard*>(shard_p);
  CurlMulti* self = shard->owner;
  auto it = self->sockets_.find(fd);
  if (it == self->sockets_.end()) {
    if (what == CURL_POLL_REMOVE) return 0;
    try {  // a socket curl made itself (its resolver's)
      Socket foreign{shard, ++self->next_id_};
      foreign.ours = false;
      it = self->sockets_.emplace(fd, foreign).first;
    } catch (...) {
      return -1;
    }
  }
  Socket& s = it->second;
  if (what == CURL_POLL_REMOVE) {
    s.wanted = false;
    if (!s.ours) {
      self->forget(fd);
    } else if (s.events != EPOLLIN) {
      // Idle in curl's cache. Watching for input is left on, so that reusing
      // the connection costs no system call; should the socket become
      // readable while idle (the server closed it), it leaves the set then.
      if (!self->unwatch(fd, s)) {
        // No longer in the set: closed without close_socket. curl 7.88 to 8.1
        // close a socket whose connect had not completed (its transfer
        // removed meanwhile: cancelled) with a bare close() (curl PR #11439,
        // fixed in 8.2), then tell us to stop watching it: forget it as
        // close_socket would.
        self->forget_ours(fd);
      }
    }
    return 0;
  }
  s.wanted = true;
  s.shard = shard;
  std::uint32_t events = 0;
  if (what & CURL_POLL_IN) events |= EPOLLIN;
  if (what & CURL_POLL_OUT) events |= EPOLLOUT;
  return self->watch(fd, s, events);
}

void CurlMulti::dispatch() noexcept {
  constexpr int batch = 256;
  epoll_event ready[batch];
  int n = ::epoll_wait(readiness_->epfd, ready, batch, 0);  // more than a batch: the poll handle fires again
  for (int i = 0; i < n; ++i) {
    auto fd = static_cast<curl_socket_t>(ready[i].data.u64 & 0xffffffffu);
    auto id = static_cast<std::uint32_t>(ready[i].data.u64 >> 32);
    // The socket may have been closed, or its fd number reused, by an action earlier in this batch.
    auto it = sockets_.find(fd);
    if (it == sockets_.end() || it->second.id != id || !it->second.added) continue;
    Socket& s = it->second;
    if (!s.wanted) {  // idle and readable: curl's check before reuse will find it closed
      watch(fd, s, 0);
      continue;
    }
    std::uint32_t got = ready[i].events;
    int flags = 0;
    if (got & EPOLLERR) flags |= CURL_CSELECT_ERR;
    if ((got & (EPOLLIN | EPOLLHUP | EPOLLERR)) && (s.events & EPOLLIN)) flags |= CURL_CSELECT_IN;
    if ((got & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && (s.events & EPOLLOUT)) flags |= CURL_CSELECT_OUT;
    socket_action(*s.shard, fd, flags);  // may close sockets and open others: `s` is not used after
  }
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
          s->owner->timer_action(*s);
        },
        static_cast<std::uint64_t>(timeout_ms), 0);
  }
  return 0;
}

void CurlMulti::timer_action(CurlShard& shard) noexcept {
  if (opened_ == 0) {
    socket_action(shard, CURL_SOCKET_TIMEOUT, 0);
  } else if (!shard.deferred) {  // after the next poll (room for every shard is reserved)
    shard.deferred = true;
    deferred_.push_back(&shard);
    pacer_->waiting(true);
  }
}

void CurlMulti::run_deferred() noexcept {
  if (opened_ > 0) return;  // the loop has not polled since
  std::size_t i = 0;
  while (opened_ == 0 && i < deferred_.size()) {
    CurlShard& shard = *deferred_[i++];
    shard.deferred = false;
    socket_action(shard, CURL_SOCKET_TIMEOUT, 0);  // may defer nothing: opened_ is 0 until it opens
  }
  deferred_.erase(deferred_.begin(), deferred_.begin() + static_cast<std::ptrdiff_t>(i));
  if (deferred_.empty()) pacer_->waiting(false);
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
