// Concurrent futures and the thread pool (CPython's concurrent/futures/_base.py and thread.py).
#include "asyncio/executors.hpp"

#include <cxxabi.h>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <ostream>
#include <thread>

#include "asyncio/detail/trace.hpp"

namespace asyncio {

RemoteError::RemoteError(std::string type_name, std::string message)
    : std::runtime_error(type_name + ": " + message),
      type_name_(std::move(type_name)),
      message_(std::move(message)) {}

namespace detail {

std::string cxx_exception_type(const std::exception_ptr& e) {
  if (!e) return "none";
  try {
    std::rethrow_exception(e);
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return type ? demangle(*type) : std::string("unknown exception");
  }
}

// ---- ConcurrentCore ----------------------------------------------------------------------------

bool ConcurrentCore::done_locked() const noexcept {
  return state_ == ConcurrentState::cancelled || state_ == ConcurrentState::cancelled_and_notified ||
         state_ == ConcurrentState::finished;
}

void ConcurrentCore::throw_invalid_state_locked() const {
  static constexpr const char* names[] = {"PENDING", "RUNNING", "CANCELLED",
                                          "CANCELLED_AND_NOTIFIED", "FINISHED"};
  throw concurrent::InvalidStateError(fmt::format(
      "{}: the future is already done", names[static_cast<int>(state_)]));
}

bool ConcurrentCore::cancel() {
  std::vector<Callback> callbacks;
  {
    std::lock_guard lock(mutex_);
    if (state_ == ConcurrentState::running || state_ == ConcurrentState::finished) return false;
    if (state_ == ConcurrentState::cancelled || state_ == ConcurrentState::cancelled_and_notified)
      return true;
    state_ = ConcurrentState::cancelled;
    callbacks.swap(callbacks_);
    done_.notify_all();
  }
  run_callbacks(std::move(callbacks));
  return true;
}

bool ConcurrentCore::cancelled() const {
  std::lock_guard lock(mutex_);
  return state_ == ConcurrentState::cancelled || state_ == ConcurrentState::cancelled_and_notified;
}

bool ConcurrentCore::running() const {
  std::lock_guard lock(mutex_);
  return state_ == ConcurrentState::running;
}

bool ConcurrentCore::done() const {
  std::lock_guard lock(mutex_);
  return done_locked();
}

ConcurrentState ConcurrentCore::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

bool ConcurrentCore::set_running_or_notify_cancel() {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case ConcurrentState::cancelled:
      state_ = ConcurrentState::cancelled_and_notified;
      return false;
    case ConcurrentState::pending:
      state_ = ConcurrentState::running;
      return true;
    default:
      throw RuntimeError("Future in unexpected state");
  }
}

void ConcurrentCore::set_exception(std::exception_ptr e) {
  if (!e) throw TypeError("invalid exception object");  // as asyncio.Future.set_exception(None)
  finish([&] { exception_ = std::move(e); });
}

bool ConcurrentCore::set_exception_if_pending(std::exception_ptr e) {
  std::vector<Callback> callbacks;
  {
    std::lock_guard lock(mutex_);
    if (done_locked()) return false;
    exception_ = std::move(e);
    state_ = ConcurrentState::finished;
    callbacks.swap(callbacks_);
    done_.notify_all();
  }
  run_callbacks(std::move(callbacks));
  return true;
}

void ConcurrentCore::add_done_callback(Callback cb) {
  {
    std::lock_guard lock(mutex_);
    if (!done_locked()) {
      callbacks_.push_back(std::move(cb));
      return;
    }
  }
  invoke_callback(cb);
}

std::exception_ptr ConcurrentCore::wait_done(
    const std::chrono::steady_clock::time_point* deadline) const {
  std::unique_lock lock(mutex_);
  auto is_done = [this] { return done_locked(); };
  if (deadline && *deadline != std::chrono::steady_clock::time_point::max()) {
    if (!done_.wait_until(lock, *deadline, is_done)) throw concurrent::TimeoutError();
  } else {
    done_.wait(lock, is_done);
  }
  if (state_ != ConcurrentState::finished) throw concurrent::CancelledError();
  return exception_;
}

void ConcurrentCore::run_callbacks(std::vector<Callback> callbacks) {
  for (auto& cb : callbacks) invoke_callback(cb);
}

void ConcurrentCore::invoke_callback(Callback& cb) noexcept {
  try {
    cb(*this);
  } catch (...) {
    // concurrent.futures logs 'exception calling callback for <Future ...>' and goes on.
    auto e = std::current_exception();
    fmt::print(stderr, "exception calling callback for {}: {}: {}\n", fmt::streamed(*this),
               asyncio::exception_type_name(e), asyncio::exception_message(e));
  }
}

std::ostream& operator<<(std::ostream& os, const ConcurrentCore& f) {
  ConcurrentState state;
  std::exception_ptr exception;
  {
    std::lock_guard lock(f.mutex_);
    state = f.state_;
    exception = f.exception_;
  }
  static constexpr const char* names[] = {"pending", "running", "cancelled", "cancelled",
                                          "finished"};
  os << "<Future at " << static_cast<const void*>(&f) << " state=" << names[static_cast<int>(state)];
  if (state == ConcurrentState::finished) {
    if (exception)
      os << " raised " << asyncio::exception_type_name(exception);
    else
      os << " returned " << demangle(f.result_type());
  }
  return os << '>';
}

}  // namespace detail

// ---- ThreadPoolExecutor ------------------------------------------------------------------------

/// Shared by the executor and its threads (a thread that outlives the executor object, when
/// the executor is destroyed from one of its own threads, keeps it alive).
///
/// Invariants: `threads` only grows, under `mutex`, and only while `!shutdown`; after shutdown
/// it is read (joined) under `join_mutex` only. `idle_tokens` is Python's _idle_semaphore:
/// one token per finished call, taken by a submit instead of starting a thread.
struct ThreadPoolExecutor::State {
  std::mutex mutex;
  std::condition_variable work_ready;
  std::deque<std::unique_ptr<detail::WorkItem>> queue;
  std::vector<std::thread> threads;
  std::size_t live_threads = 0;
  std::size_t busy_threads = 0;
  std::size_t idle_tokens = 0;
  bool shutdown = false;
  std::string broken;  // non-empty once an initializer failed

  std::size_t max_workers = 0;
  std::string thread_name_prefix;
  std::function<void()> initializer;

  std::mutex join_mutex;
};

namespace {

std::atomic<unsigned> thread_pool_counter{0};

void fail_queue_broken(ThreadPoolExecutor::State& s, std::unique_lock<std::mutex>& lock) {
  auto items = std::move(s.queue);
  s.queue.clear();
  s.work_ready.notify_all();
  lock.unlock();
  for (auto& item : items)
    item->core().set_exception_if_pending(std::make_exception_ptr(BrokenThreadPool(s.broken)));
  items.clear();
  lock.lock();
}

// Names of pool threads by number, for trace lanes (never shrinks: a few bytes per thread).
std::mutex pool_thread_names_mutex;
std::vector<std::string>* pool_thread_names = new std::vector<std::string>();

std::uint32_t register_pool_thread(const std::string& name) {
  std::lock_guard lock(pool_thread_names_mutex);
  pool_thread_names->push_back(name);
  return static_cast<std::uint32_t>(pool_thread_names->size());
}

void thread_pool_worker(std::shared_ptr<ThreadPoolExecutor::State> state, std::size_t index) {
  auto& s = *state;
  std::string name = fmt::format("{}_{}", s.thread_name_prefix, index);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());

  std::unique_lock lock(s.mutex);
  if (s.initializer) {
    lock.unlock();
    bool failed = false;
    try {
      s.initializer();
    } catch (...) {
      failed = true;
      auto e = std::current_exception();
      fmt::print(stderr, "Exception in initializer: {}: {}\n", exception_type_name(e),
                 exception_message(e));
    }
    lock.lock();
    if (failed) {
      // thread.py _initializer_failed: the pool is broken, queued calls fail.
      s.broken = "A thread initializer failed, the thread pool is not usable anymore";
      fail_queue_broken(s, lock);
      --s.live_threads;
      return;
    }
  }
  // Python's worker releases the idle semaphore after each call; we do it as the call
  // returns, before its future completes, so that a caller woken by the result who submits
  // again finds this thread idle rather than starting another one.
  struct Thread final : detail::PoolThread {
    explicit Thread(ThreadPoolExecutor::State& s, std::uint32_t n) : s(s) { number = n; }
    void call_returned() noexcept override {
      std::lock_guard lock(s.mutex);
      --s.busy_threads;
      ++s.idle_tokens;
    }
    ThreadPoolExecutor::State& s;
  } self(s, register_pool_thread(name));
  for (;;) {
    s.work_ready.wait(lock, [&] { return !s.queue.empty() || s.shutdown || !s.broken.empty(); });
    if (s.queue.empty()) break;
    auto item = std::move(s.queue.front());
    s.queue.pop_front();
    ++s.busy_threads;
    lock.unlock();
    item->run(self);
    item.reset();
    lock.lock();
  }
  --s.live_threads;
}

}  // namespace

std::size_t ThreadPoolExecutor::default_max_workers() noexcept {
  std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
  return std::min<std::size_t>(32, cpus + 4);
}

ThreadPoolExecutor::ThreadPoolExecutor(std::size_t max_workers, std::string thread_name_prefix,
                                       std::function<void()> initializer)
    : state_(std::make_shared<State>()) {
  state_->max_workers = max_workers ? max_workers : default_max_workers();
  state_->thread_name_prefix = thread_name_prefix.empty()
                                   ? fmt::format("ThreadPool-{}", thread_pool_counter++)
                                   : std::move(thread_name_prefix);
  state_->initializer = std::move(initializer);
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
  shutdown(true);
  // Destroyed from one of its own threads: that thread cannot join itself; it keeps the
  // state alive until it returns.
  std::lock_guard join_lock(state_->join_mutex);
  for (auto& t : state_->threads)
    if (t.joinable()) t.detach();
}

std::size_t ThreadPoolExecutor::max_workers() const noexcept { return state_->max_workers; }

void ThreadPoolExecutor::submit_item(std::unique_ptr<detail::WorkItem> item) {
  auto& s = *state_;
  std::lock_guard lock(s.mutex);
  if (!s.broken.empty()) throw BrokenThreadPool(s.broken);
  if (s.shutdown) throw RuntimeError("cannot schedule new futures after shutdown");
  s.queue.push_back(std::move(item));
  s.work_ready.notify_one();
  // _adjust_thread_count: an idle thread will take it; otherwise start one if allowed.
  if (s.idle_tokens > 0) {
    --s.idle_tokens;
    return;
  }
  if (s.threads.size() >= s.max_workers) return;
  try {
    s.threads.emplace_back(thread_pool_worker, state_, s.threads.size());
    ++s.live_threads;
  } catch (...) {
    if (s.threads.empty()) {  // nobody would ever run it
      s.queue.pop_back();
      throw;
    }
  }
}

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  auto& s = *state_;
  std::deque<std::unique_ptr<detail::WorkItem>> cancelled;
  {
    std::lock_guard lock(s.mutex);
    s.shutdown = true;
    if (cancel_futures) cancelled.swap(s.queue);
    s.work_ready.notify_all();
  }
  for (auto& item : cancelled) item->core().cancel();
  cancelled.clear();
  if (!wait) return;
  // No thread is added after `shutdown` is set, so `threads` is stable here.
  std::lock_guard join_lock(s.join_mutex);
  for (auto& t : s.threads)
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
}

namespace detail {

std::string pool_thread_name(std::uint32_t number) {
  std::lock_guard lock(pool_thread_names_mutex);
  if (number == 0 || number > pool_thread_names->size()) return "thread";
  return (*pool_thread_names)[number - 1];
}

void trace_job(EventLoop& loop, Tracer& tracer, const ConcurrentCore::Job& job) {
  if (job.start_ns == 0) return;  // the executor did not say
  const std::uint64_t lane =
      Tracer::worker_lane(job.in_process ? (std::uint64_t{1} << 32) + job.worker : job.worker);
  // Name each lane once per trace.
  thread_local const Tracer* named_for = nullptr;
  thread_local std::string named_path;
  thread_local std::vector<std::uint64_t> named;
  if (named_for != &tracer || named_path != tracer.path()) {
    named_for = &tracer;
    named_path = tracer.path();
    named.clear();
  }
  if (std::find(named.begin(), named.end(), lane) == named.end()) {
    named.push_back(lane);
    tracer.lane_name(lane, job.in_process ? fmt::format("process {}", job.worker)
                                          : "thread " + pool_thread_name(job.worker));
  }
  // Loop time of the start: the loop's clock runs with real time while a call is pending.
  const std::int64_t ts = loop.now_ns() - (EventLoop::real_now_ns() - job.start_ns);
  tracer.slice(lane, ts, job.end_ns - job.start_ns, job.what ? job.what : "run_in_executor");
}

AbstractExecutor& default_executor(EventLoop& loop) {
  if (!loop.default_executor())
    loop.set_default_executor(std::make_shared<ThreadPoolExecutor>(0, "asyncio"));
  return *loop.default_executor();
}

}  // namespace detail

std::ostream& operator<<(std::ostream& os, const ThreadPoolExecutor& pool) {
  auto& s = *pool.state_;
  std::lock_guard lock(s.mutex);
  const char* state = !s.broken.empty() ? "broken" : s.shutdown ? "shutdown" : "running";
  return os << "<ThreadPoolExecutor max_workers=" << s.max_workers
            << " threads=" << s.live_threads << " busy=" << s.busy_threads
            << " queued=" << s.queue.size() << " state=" << state << '>';
}

}  // namespace asyncio
