// curl's multi-socket interface on the event loop: the one file where curl
// meets libuv (curl's docs/examples/multi-uv.c and hiperfifo.c pattern; see
// curl_multi.hpp).
#include "http/curl_multi.hpp"

#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "asyncio/events.hpp"
#include "asyncio/http/client.hpp"

namespace asyncio::http::detail {
namespace {

std::atomic<int> g_live_easy{0};
std::atomic<int> g_live_sockets{0};

// CURLOPT_OPENSOCKETFUNCTION / CLOSESOCKETFUNCTION: curl's own socket() and
// close(), counted so that tests can prove that no socket leaks.
curl_socket_t open_socket(void*, curlsocktype, curl_sockaddr* address) {
  curl_socket_t fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd != CURL_SOCKET_BAD) g_live_sockets.fetch_add(1, std::memory_order_relaxed);
  return fd;
}

int close_socket(void*, curl_socket_t fd) {
  g_live_sockets.fetch_sub(1, std::memory_order_relaxed);
  return ::close(fd);
}

}  // namespace

int live_easy_handles() noexcept { return g_live_easy.load(std::memory_order_relaxed); }
int live_sockets() noexcept { return g_live_sockets.load(std::memory_order_relaxed); }

// ---- Transfer ------------------------------------------------------------------

Transfer::Transfer() : easy_(curl_easy_init()) {
  if (easy_ == nullptr) throw std::bad_alloc();
  g_live_easy.fetch_add(1, std::memory_order_relaxed);
  curl_easy_setopt(easy_, CURLOPT_PRIVATE, this);
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_OPENSOCKETFUNCTION, &open_socket);
  curl_easy_setopt(easy_, CURLOPT_CLOSESOCKETFUNCTION, &close_socket);
}

Transfer::~Transfer() {
  stop();
  curl_easy_cleanup(easy_);
  g_live_easy.fetch_sub(1, std::memory_order_relaxed);
}

void Transfer::start(CurlMulti& multi) { multi.add(*this); }

void Transfer::stop() noexcept {
  if (multi_ != nullptr) multi_->remove(*this);
}

// ---- the uv handles, each freed only in its close callback ---------------------

/// A uv_poll_t watching one of curl's sockets (curl_multi_assign'ed to it).
struct CurlMulti::SocketWatcher {
  uv_poll_t poll;
  CurlMulti* owner;
  curl_socket_t fd;

  void close() noexcept {
    owner->watchers_.erase(this);
    uv_close(reinterpret_cast<uv_handle_t*>(&poll),
             [](uv_handle_t* h) { delete static_cast<SocketWatcher*>(h->data); });
  }
  static void on_poll(uv_poll_t* h, int status, int events) {
    auto* w = static_cast<SocketWatcher*>(h->data);
    int flags = 0;
    if (status < 0) flags |= CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    w->owner->socket_action(w->fd, flags);
  }
};

/// The uv_timer_t that curl's CURLMOPT_TIMERFUNCTION arms.
struct CurlMulti::Timer {
  uv_timer_t timer;
  CurlMulti* owner;
};

// ---- CurlMulti -------------------------------------------------------------------

CurlMulti::CurlMulti(EventLoop& loop, long max_total, long max_host)
    : loop_(loop), multi_(curl_multi_init()), timer_(new Timer{}) {
  if (multi_ == nullptr) {
    delete timer_;
    throw std::bad_alloc();
  }
  timer_->owner = this;
  uv_timer_init(loop_.uv_loop(), &timer_->timer);
  timer_->timer.data = timer_;
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_total);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, max_host);
  // Keep as many idle connections as may be in use at once (curl's default is 4x
  // the easy handles added, which drops connections a limit of 100 would reuse).
  if (max_total > 0) curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, max_total);
}

CurlMulti::~CurlMulti() {
  std::vector<Transfer*> left(running_.begin(), running_.end());
  for (Transfer* t : left) {
    remove(*t);
    t->finished(CURLE_OK, true);
  }
  curl_multi_cleanup(multi_);  // closes the cached connections
  std::vector<SocketWatcher*> watchers(watchers_.begin(), watchers_.end());
  for (SocketWatcher* w : watchers) w->close();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_->timer),
           [](uv_handle_t* h) { delete static_cast<Timer*>(h->data); });
}

void CurlMulti::add(Transfer& t) {
  if (CURLMcode rc = curl_multi_add_handle(multi_, t.easy_); rc != CURLM_OK)
    throw ClientError(std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc), {});
  running_.insert(&t);
  t.multi_ = this;
  loop_.begin_external();
}

void CurlMulti::remove(Transfer& t) noexcept {
  curl_multi_remove_handle(multi_, t.easy_);
  running_.erase(&t);
  t.multi_ = nullptr;
  loop_.end_external();
}

int CurlMulti::on_socket(CURL*, curl_socket_t s, int what, void* self_p, void* watcher_p) {
  auto* self = static_cast<CurlMulti*>(self_p);
  auto* w = static_cast<SocketWatcher*>(watcher_p);
  if (what == CURL_POLL_REMOVE) {
    if (w != nullptr) {
      curl_multi_assign(self->multi_, s, nullptr);
      w->close();
    }
    return 0;
  }
  if (w == nullptr) {
    w = new SocketWatcher{};
    w->owner = self;
    w->fd = s;
    if (uv_poll_init_socket(self->loop_.uv_loop(), &w->poll, s) != 0) {
      delete w;
      return -1;
    }
    w->poll.data = w;
    self->watchers_.insert(w);
    curl_multi_assign(self->multi_, s, w);
  }
  int events = 0;
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  uv_poll_start(&w->poll, events, &SocketWatcher::on_poll);
  return 0;
}

int CurlMulti::on_timer(CURLM*, long timeout_ms, void* self_p) {
  auto* self = static_cast<CurlMulti*>(self_p);
  if (timeout_ms < 0) {
    uv_timer_stop(&self->timer_->timer);
  } else {
    // Even for 0 ms, act from the timer rather than from inside curl (hiperfifo.c).
    uv_timer_start(
        &self->timer_->timer,
        [](uv_timer_t* h) {
          // A transfer that ends here (a reused connection can send and read a
          // whole response inside one action) makes a task ready; the loop's
          // ready guard (events.cpp) then keeps uv_run from blocking in epoll.
          static_cast<Timer*>(h->data)->owner->socket_action(CURL_SOCKET_TIMEOUT, 0);
        },
        static_cast<std::uint64_t>(timeout_ms), 0);
  }
  return 0;
}

bool CurlMulti::socket_action(curl_socket_t s, int flags) noexcept {
  int still_running = 0;
  curl_multi_socket_action(multi_, s, flags, &still_running);
  return read_info();
}

bool CurlMulti::read_info() noexcept {
  bool any = false;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    CURLcode code = msg->data.result;
    remove(*t);
    t->finished(code, false);
    any = true;
  }
  return any;
}

}  // namespace asyncio::http::detail
