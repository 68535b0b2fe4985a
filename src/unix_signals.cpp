// loop.add_signal_handler / remove_signal_handler on uv_signal_t
// (CPython unix_events._UnixSelectorEventLoop; uvloop's handles/signal).
#include "unix_signals.hpp"

#include "uv_handle.hpp"

#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include <string>

namespace asyncio {
namespace detail {

bool on_main_thread() noexcept { return ::gettid() == ::getpid(); }

namespace {

// signal.valid_signals() on Linux: 1-31 and the real-time signals (glibc
// keeps 32 and 33 for itself).
bool valid_signal(int sig) noexcept { return (sig >= 1 && sig <= 31) || (sig >= SIGRTMIN && sig <= SIGRTMAX); }

void check_signal(int sig) {
  if (!valid_signal(sig)) throw ValueError("invalid signal number " + std::to_string(sig));
}

/// One delivery of a signal, on the ready queue. CPython queues the
/// handler's Handle once per delivery (two signals before the loop runs: the
/// same Handle twice); an entry of our ready queue is linked through itself,
/// so it is queued once at most. Each delivery gets its own entry, holding the
/// queue's reference to the handle, and runs or drops the handle in its place.
struct SignalDelivery final : Runnable, PooledCompact<SignalDelivery> {
  explicit SignalDelivery(HandleBase* h) noexcept : Runnable(kOps), handle(h) {}
  HandleBase* handle;
  static const RunnableOps kOps;
};

const RunnableOps SignalDelivery::kOps{
    [](Runnable* r) {
      HandleBase* h = static_cast<SignalDelivery*>(r)->handle;
      delete static_cast<SignalDelivery*>(r);
      h->run();  // runs the callback unless cancelled; releases the queue's reference
    },
    [](Runnable* r) noexcept {
      HandleBase* h = static_cast<SignalDelivery*>(r)->handle;
      delete static_cast<SignalDelivery*>(r);
      h->drop();
    }};

}  // namespace

const HandleBase* signal_delivery_handle(const Runnable* r) noexcept {
  return r->ops_ == &SignalDelivery::kOps ? static_cast<const SignalDelivery*>(r)->handle : nullptr;
}

/// One signal watched by the loop: its uv_signal_t (in a UvHandle: the memory
/// goes in the close callback) and what the signal runs.
struct UnixSignals::Watcher {
  UvHandle handle;
  EventLoop* loop = nullptr;
  HandleBase* user = nullptr;  // one reference, or null
  std::function<void()> fallback;

  ~Watcher() {
    if (user) user->release();
  }

  static void on_signal(uv_signal_t* h, int) {
    auto* w = UvHandle::user_of<Watcher>(h);
    if (w == nullptr) return;
    if (w->user != nullptr) {
      auto* delivery = new SignalDelivery(w->user);
      w->user->add_ref();  // the queue's reference
      w->loop->push_ready(delivery);
    } else if (w->fallback) {
      w->fallback();
    }
  }
};

UnixSignals::UnixSignals(EventLoop& loop) : loop_(loop) {}

UnixSignals::~UnixSignals() {
  loop_.signal_watchers_ -= static_cast<int>(watchers_.size());
  watchers_.clear();  // each UvHandle closes its uv_signal_t
}

UnixSignals::Watcher& UnixSignals::watcher(int sig) {
  if (auto it = watchers_.find(sig); it != watchers_.end()) return *it->second;
  auto w = std::make_unique<Watcher>();
  w->loop = &loop_;
  w->handle = UvHandle::make("signal");
  if (int rc = uv_signal_init(loop_.uv_loop(), w->handle.signal()); rc != 0) throw_os_error(-rc);
  w->handle.initialized(w.get());
  if (int rc = uv_signal_start(w->handle.signal(), &Watcher::on_signal, sig); rc != 0) {
    if (rc == UV_EINVAL) throw RuntimeError("sig " + std::to_string(sig) + " cannot be caught");
    throw_os_error(-rc);
  }
  uv_unref(w->handle.handle());
  ++loop_.signal_watchers_;
  return *watchers_.emplace(sig, std::move(w)).first->second;
}

void UnixSignals::drop_if_unused(int sig) {
  auto it = watchers_.find(sig);
  if (it == watchers_.end() || it->second->user != nullptr || it->second->fallback) return;
  --loop_.signal_watchers_;
  watchers_.erase(it);
}

void UnixSignals::set_handler(int sig, Handle handle) {
  Watcher& w = watcher(sig);
  HandleBase* h = handle.detach();
  h->what_ = "signal handler";
  if (w.user) w.user->release();
  w.user = h;
}

bool UnixSignals::remove_handler(int sig) {
  auto it = watchers_.find(sig);
  if (it == watchers_.end() || it->second->user == nullptr) return false;
  std::exchange(it->second->user, nullptr)->release();
  drop_if_unused(sig);
  return true;
}

bool UnixSignals::set_fallback_if_default(int sig, std::function<void()> fn) {
  if (!on_main_thread()) return false;
  struct sigaction current {};
  if (::sigaction(sig, nullptr, &current) != 0) return false;
  if ((current.sa_flags & SA_SIGINFO) != 0 || current.sa_handler != SIG_DFL) return false;
  watcher(sig).fallback = std::move(fn);
  return true;
}

void UnixSignals::clear_fallback(int sig) {
  auto it = watchers_.find(sig);
  if (it == watchers_.end()) return;
  it->second->fallback = nullptr;
  drop_if_unused(sig);
}

}  // namespace detail

// ---- EventLoop's part ---------------------------------------------------------------

detail::UnixSignals& EventLoop::unix_signals() {
  if (closed_) throw RuntimeError("Event loop is closed");
  if (!signals_) signals_ = std::make_unique<detail::UnixSignals>(*this);
  return *signals_;
}

void EventLoop::add_signal_handle(int sig, Handle handle) {
  detail::check_signal(sig);
  if (closed_) throw RuntimeError("Event loop is closed");
  if (!detail::on_main_thread()) throw RuntimeError("add_signal_handler() only works in the main thread");
  check_thread("add_signal_handler");
  unix_signals().set_handler(sig, std::move(handle));
}

bool EventLoop::remove_signal_handler(int sig) {
  detail::check_signal(sig);
  check_thread("remove_signal_handler");
  return signals_ && signals_->remove_handler(sig);
}

}  // namespace asyncio
