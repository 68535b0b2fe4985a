// EventLoop on libuv (CPython base_events.BaseEventLoop).
#include "asyncio/events.hpp"

#include <fmt/core.h>
#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>

#include "asyncio/graph.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/trace.hpp"
#include "unix_signals.hpp"
#include "uv_handle.hpp"

namespace asyncio {
namespace detail {
namespace {

// Loops alive on this thread: reports for a loop that is gone go to stderr.
thread_local std::vector<LoopCore*> t_live_loops;

// Loops of any thread that are not closed: a done future of a loop that is
// gone must not push onto it (FutureCore::schedule_done_callback). A new loop
// allocated where a destroyed one was would pass for it; the future then
// schedules its callback there, which is safe but not CPython's error.
std::mutex g_open_loops_mutex;
std::vector<const LoopCore*>& open_loops() {
  static auto* loops = new std::vector<const LoopCore*>();  // never destroyed: used at exit
  return *loops;
}
void set_open(const LoopCore* loop, bool open) {
  std::lock_guard lock(g_open_loops_mutex);
  auto& v = open_loops();
  if (open) {
    v.push_back(loop);
  } else {
    v.erase(std::remove(v.begin(), v.end(), loop), v.end());
  }
}

// uv_loop_alive() without the call through the PLT (it runs once per
// iteration while callbacks are ready): the same three public fields.
inline bool uv_alive(const uv_loop_t& loop) noexcept {
  return loop.active_handles > 0 || loop.active_reqs.count > 0 || loop.closing_handles != nullptr;
}

// The timer heap's order (a function object, so that the heap algorithms
// inline it): deadline, then scheduling order, read from the handles only on a tie.
struct Later {
  bool operator()(const TimerHeap::Entry& a, const TimerHeap::Entry& b) const noexcept {
    return a.when != b.when ? a.when > b.when : a.timer->seq_ > b.timer->seq_;
  }
};

void print_context(const ExceptionContext& c) {
  std::string out = c.message.empty() ? "Unhandled error in event loop" : c.message;
  out += '\n';
  if (!c.task.empty()) out += "task: " + c.task + '\n';
  if (!c.handle.empty()) out += "handle: " + c.handle + '\n';
  if (c.exception) out += exception_type_name(c.exception) + ": " + exception_message(c.exception) + '\n';
  std::fputs(out.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace

void report(LoopCore* loop, const ExceptionContext& context) noexcept {
  try {
    if (loop != nullptr &&
        std::find(t_live_loops.begin(), t_live_loops.end(), loop) != t_live_loops.end()) {
      loop->call_exception_handler(context);
    } else {
      print_context(context);
    }
  } catch (...) {
    std::fputs("asyncio: error while reporting an error\n", stderr);
  }
}

// Serials of the loops running now, with their threads (for error messages only).
std::vector<std::pair<std::uint64_t, std::thread::id>>& running_serials() {
  static auto* v = new std::vector<std::pair<std::uint64_t, std::thread::id>>();  // never destroyed
  return *v;
}

void set_running(std::uint64_t serial, bool running) {
  std::lock_guard lock(g_open_loops_mutex);
  auto& v = running_serials();
  if (running) {
    v.emplace_back(serial, std::this_thread::get_id());
  } else {
    v.erase(std::remove_if(v.begin(), v.end(), [&](const auto& e) { return e.first == serial; }), v.end());
  }
}

bool loop_is_running_elsewhere(std::uint64_t serial) noexcept {
  std::lock_guard lock(g_open_loops_mutex);
  for (const auto& [s, thread] : running_serials()) {
    if (s == serial) return thread != std::this_thread::get_id();
  }
  return false;
}

// ---- the loop's core: ready queue and task list ----

namespace {
std::mutex g_loop_slots_mutex;
std::size_t g_next_loop_slot = 1;  // handed out in turn (0 is "no loop")
}  // namespace

LoopCore::LoopCore() {
  std::lock_guard lock(g_loop_slots_mutex);
  for (std::size_t tried = 1; tried < kLoopSlots; ++tried) {
    std::size_t i = g_next_loop_slot;
    g_next_loop_slot = i + 1 < kLoopSlots ? i + 1 : 1;
    if (g_loop_slots[i].load(std::memory_order_relaxed) == nullptr) {
      g_loop_slots[i].store(this, std::memory_order_relaxed);
      index_ = static_cast<std::uint16_t>(i);
      return;
    }
  }
  throw RuntimeError("too many event loops: 65,535 are alive");
}

LoopCore::~LoopCore() { g_loop_slots[index_].store(nullptr, std::memory_order_relaxed); }

namespace {
bool is_free_slot(const TaskCore* entry) noexcept { return (reinterpret_cast<std::uintptr_t>(entry) & 1) != 0; }
TaskCore* free_slot_entry(std::size_t next) noexcept { return reinterpret_cast<TaskCore*>((next << 1) | 1); }
std::size_t next_free_slot(const TaskCore* entry) noexcept { return reinterpret_cast<std::uintptr_t>(entry) >> 1; }
}  // namespace

void LoopCore::link_task(TaskCore* t) {
  std::size_t slot;
  if (free_slot_ != kNoFreeSlot) {
    slot = free_slot_;
    free_slot_ = next_free_slot(tasks_[slot]);
    tasks_[slot] = t;
  } else {
    if (tasks_.size() >= TaskCore::kNoSlot) throw RuntimeError("too many pending tasks in one loop");
    slot = tasks_.size();
    tasks_.push_back(t);
  }
  t->set_task_slot(static_cast<std::uint32_t>(slot));
  ++live_tasks_;
}

void LoopCore::unlink_task(TaskCore* t) noexcept {
  std::uint32_t slot = t->task_slot();
  if (slot == TaskCore::kNoSlot) return;  // not listed
  tasks_[slot] = free_slot_entry(free_slot_);
  free_slot_ = slot;
  t->set_task_slot(TaskCore::kNoSlot);
  if (--live_tasks_ == 0) {
    tasks_.clear();
    free_slot_ = kNoFreeSlot;
    // After a spike, the table's memory goes (8 bytes per task of the spike).
    if (tasks_.capacity() > 4096) std::vector<TaskCore*>().swap(tasks_);
  } else if (tasks_.size() > 4096 && live_tasks_ < tasks_.size() / 8) {
    compact_tasks();
  }
}

void LoopCore::compact_tasks() noexcept {
  // Mostly holes: the tasks move to the front (keeping their order), and the
  // table shrinks. O(table), once per 7/8 of it emptied.
  std::size_t n = 0;
  for (TaskCore* entry : tasks_) {
    if (is_free_slot(entry)) continue;
    entry->set_task_slot(static_cast<std::uint32_t>(n));
    tasks_[n++] = entry;
  }
  tasks_.resize(n);
  free_slot_ = kNoFreeSlot;
  try {
    tasks_.shrink_to_fit();
  } catch (...) {  // no memory for a smaller table: keep the larger one
  }
}

std::vector<TaskCore*> LoopCore::tasks_in_creation_order() const {
  std::vector<TaskCore*> out;
  out.reserve(live_tasks_);
  for (TaskCore* entry : tasks_)
    if (!is_free_slot(entry)) out.push_back(entry);
  // Ids count tasks as they are made (wrapping after 2^32: compared as a distance).
  std::sort(out.begin(), out.end(), [](const TaskCore* a, const TaskCore* b) {
    return static_cast<std::int32_t>(a->id() - b->id()) < 0;
  });
  return out;
}

bool loop_is_open(const LoopCore* loop) noexcept {
  std::lock_guard lock(g_open_loops_mutex);
  auto& v = open_loops();
  return std::find(v.begin(), v.end(), loop) != v.end();
}

LoopCore& running_loop_core() {
  if (t_running_loop == nullptr) throw RuntimeError("no running event loop");
  return *t_running_loop;
}

void report_never_awaited(const CoroPromise& coro) {
  LoopCore* loop = t_running_loop;
  if (loop == nullptr || !loop->debug()) return;
  std::string msg = std::string("coroutine '") + coro.name() + "' was never awaited";
  std::string defined = definition_of(&coro), origin = origin_of(&coro);
  if (!defined.empty()) msg += "\nCoroutine defined at " + defined + (origin.empty() ? "" : ", created " + origin);
  else if (!origin.empty()) msg += "\nCoroutine created " + origin;
  report(loop, ExceptionContext{msg, nullptr, {}, {}});
}

void throw_nan_delay() { throw ValueError("Invalid delay: NaN (not a number)"); }

bool is_sleep_timer(const Runnable* r) noexcept;  // src/tasks.cpp

void HandleBase::run_entry(Runnable* r) {
  auto* h = static_cast<HandleBase*>(r);
  if (!h->cancelled_) {
    try {
      h->invoke_(h);
    } catch (...) {
      report(t_running_loop, ExceptionContext{std::string("Exception in callback ") + h->what_,
                                              std::current_exception(), {}, {}});
    }
  }
  h->release();
}

const RunnableOps HandleBase::kOps{&HandleBase::run_entry,
                                   [](Runnable* r) noexcept { static_cast<HandleBase*>(r)->release(); }};

}  // namespace detail

// ---- libuv state ------------------------------------------------------------

struct EventLoop::Uv {
  uv_loop_t loop;
  uv_timer_t wakeup;  // bounds a blocking poll by the first timer's deadline
  uv_async_t async;   // woken by call_soon_threadsafe; unreferenced except while blocking
  // Runs inside uv_run after libuv's timers and pending callbacks, just before
  // it computes how long to block: if one of those callbacks made something of
  // ours ready (a curl timer finishing a transfer, any uv timer of the I/O
  // layers), uv_stop() makes the poll return at once instead of blocking until
  // the next I/O event. Unreferenced: it never keeps the loop alive.
  uv_prepare_t ready_guard;
};

EventLoop::EventLoop(bool virtual_time) : virtual_time_(virtual_time), uv_(std::make_unique<Uv>()) {
  if (int rc = uv_loop_init(&uv_->loop); rc != 0)
    throw RuntimeError(std::string("uv_loop_init failed: ") + uv_strerror(rc));
  uv_timer_init(&uv_->loop, &uv_->wakeup);
  uv_async_init(&uv_->loop, &uv_->async, [](uv_async_t*) {});
  uv_unref(reinterpret_cast<uv_handle_t*>(&uv_->async));
  uv_prepare_init(&uv_->loop, &uv_->ready_guard);
  uv_->ready_guard.data = this;
  uv_prepare_start(&uv_->ready_guard, [](uv_prepare_t* h) {
    if (!static_cast<EventLoop*>(h->data)->ready_.empty()) uv_stop(h->loop);
  });
  uv_unref(reinterpret_cast<uv_handle_t*>(&uv_->ready_guard));
  virtual_now_ = real_now_ns();
  last_poll_ns_ = virtual_now_;
  detail::t_live_loops.push_back(this);
  detail::set_open(this, true);
}

EventLoop::~EventLoop() {
  if (!closed_) {
    try {
      close();
    } catch (...) {
    }
  }
  detail::set_open(this, false);
  auto& live = detail::t_live_loops;
  live.erase(std::remove(live.begin(), live.end(), this), live.end());
}

uv_loop_s* EventLoop::uv_loop() noexcept { return &uv_->loop; }

void EventLoop::enable_tracing(std::string path) {
  tracer_owner_ = std::make_unique<detail::Tracer>(std::move(path), virtual_time_);
  tracer_ = tracer_owner_.get();
}

// ---- running ------------------------------------------------------------------

void EventLoop::run_forever() {
  if (closed_) throw RuntimeError("Event loop is closed");
  if (running_) throw RuntimeError("This event loop is already running");
  if (detail::t_running_loop != nullptr)
    throw RuntimeError("Cannot run the event loop while another loop is running");
  running_ = true;
  thread_id_ = std::this_thread::get_id();
  detail::t_running_loop = this;
  detail::set_running(serial(), true);
  detail::t_record_origins = debug_;
  struct Reset {
    EventLoop* self;
    ~Reset() {
      detail::t_record_origins = false;
      self->stopping_ = false;
      self->running_ = false;
      self->thread_id_ = {};
      detail::t_running_loop = nullptr;
      detail::set_running(self->serial(), false);
    }
  } reset{this};
  for (;;) {
    run_once();
    if (stopping_) break;
  }
}

bool EventLoop::external_pending() const noexcept {
  return external_ > 0 || ts_pending_.load(std::memory_order_acquire) || detail::uv_alive(uv_->loop);
}

void EventLoop::run_once() {
  // The common pass while tasks ping-pong: callbacks are ready, and nothing
  // else needs a look (no thread-safe callback posted, no cancelled timer to
  // count, no timer, nothing alive in libuv, no debug mode or tracer, and the
  // signal watchers, if any, not due for a look on their bound: the full pass
  // counts that iteration again, so the bound only gets shorter). It does what
  // the full pass below does in that case (no poll, no timer due: run what is
  // ready), with every condition read once up front.
  if (!ready_.empty() && !ts_pending_.load(std::memory_order_acquire) && detail::t_cancelled_timers == 0 &&
      timers_.empty() && !detail::uv_alive(uv_->loop) && !(debug_ | (tracer_ != nullptr)) &&
      (signal_watchers_ == 0 || ++iterations_since_poll_ < 1024)) [[likely]] {
    std::size_t n = ready_.size();  // run_ready(n), untraced
    do ready_.pop()->run();
    while (--n > 0);
    return;
  }
  run_once_full();
}

// The whole pass (CPython's _run_once; events.hpp, "One iteration").
void EventLoop::run_once_full() {
  if (ts_pending_.load(std::memory_order_acquire)) [[unlikely]] drain_threadsafe();
  if (detail::t_cancelled_timers > 0) [[unlikely]] pop_cancelled_timers();

  if (ready_.empty() && !stopping_) {
    // Nothing to run: wait for I/O until the first timer is due.
    std::int64_t timeout = -1;
    if (!timers_.empty() && timers_.top().when != detail::kNoDeadline)
      timeout = std::max<std::int64_t>(0, timers_.top().when - now_ns());
    // Idle (about to wait, or to jump in virtual time): if a spike grew the
    // frame pool, give back what it freed.
    if (timeout != 0 && detail::pool_trim_due()) [[unlikely]] detail::pool_trim();
    if (virtual_time_ && !external_pending()) {
      if (signal_watchers_ > 0) [[unlikely]] poll_signals();  // before time jumps
      if (!ready_.empty()) {
        // a signal's handler is ready: run it first
      } else if (timeout > 0) {
        virtual_now_ = timers_.top().when;  // autojump
      } else if (timeout < 0) {
        poll_io(-1);  // only another thread can wake us now
      }
    } else if (timeout != 0 || detail::uv_alive(uv_->loop)) {
      poll_io(timeout);
    }
  } else if (detail::uv_alive(uv_->loop)) [[unlikely]] {
    // Callbacks are ready: poll without blocking, on a bound (file comment).
    if (++iterations_since_poll_ >= 64 || real_now_ns() - last_poll_ns_ >= 50'000) poll_io(0);
  } else if (signal_watchers_ > 0 && ++iterations_since_poll_ >= 1024) [[unlikely]] {
    poll_signals();  // signal watchers are unreferenced: look for signals on a bound
  }
  if (ts_pending_.load(std::memory_order_acquire)) [[unlikely]] drain_threadsafe();

  // Move the due timers to the ready queue, in deadline order.
  if (!timers_.empty()) {
    std::int64_t now = now_ns();
    while (!timers_.empty() && timers_.top().when <= now) {
      detail::TimerNode* t = timers_.pop();
      t->in_heap_ = false;
      if (t->cancelled()) {
        uncount_cancelled();
        t->drop();  // the heap's reference
        continue;
      }
      ready_.push(t);  // the heap's reference moves to the queue
    }
  }

  // Run exactly what was ready when the pass began.
  run_ready(ready_.size());
}

void EventLoop::run_ready(std::size_t n) {
  if (debug_ | (tracer_ != nullptr)) [[unlikely]] {  // one branch for both
    while (n-- > 0) run_debug(ready_.pop());
    return;
  }
  while (n-- > 0) ready_.pop()->run();
}

namespace {

// Debug mode: a callback or task step ran longer than slow_callback_duration.
void report_slow_step(const std::string& what, const std::string& resumed, double took) {
  // CPython's first line (base_events.py, _run_once), then what C++ can add.
  std::string out = fmt::format("Executing {} took {:.3f} seconds\n", what, took);
  if (!resumed.empty()) {
    out += "  " + resumed + "\n";
    out +=
        "  It blocked the event loop: every other task waited. CPU-bound work belongs in an executor\n"
        "  (loop.run_in_executor, asyncio::to_thread; docs/1_concepts.md, \"Processes vs threads\").\n";
  }
  // Every task as the step left them (graph.hpp), so the report says what waited.
  std::string dump = format_all_tasks();
  out += "  Tasks after the step: ";
  for (std::size_t b = 0, e; (e = dump.find('\n', b)) != std::string::npos; b = e + 1)
    out += (b == 0 ? "" : "  ") + dump.substr(b, e - b + 1);
  std::fputs(out.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace

void EventLoop::run_debug(detail::Runnable* r) {
  if (!debug_) {  // tracing only
    run_traced(r);
    return;
  }
  std::string what, resumed;
  if (const detail::TaskCore* task = r->as_task()) {
    what = detail::task_repr(*task);
    resumed = detail::describe_step(*task);
  } else if (const detail::HandleBase* h = detail::HandleBase::from(r)) {
    what = std::string("<Handle ") + h->what_ + ">";
  } else if (const detail::HandleBase* s = detail::signal_delivery_handle(r)) {
    what = std::string("<Handle ") + s->what_ + ">";
  } else if (detail::is_sleep_timer(r)) {
    what = "<Handle sleep>";
  } else {
    what = "<done callback>";
  }
  auto t0 = real_now_ns();
  run_traced(r);
  double took = static_cast<double>(real_now_ns() - t0) * 1e-9;
  if (took >= slow_callback_duration) report_slow_step(what, resumed, took);
}

void EventLoop::run_traced(detail::Runnable* r) {
  detail::Tracer* tr = tracer_;
  if (tr == nullptr) {
    r->run();
    return;
  }
  // The tasks this callback wakes become ready now: the picture shows them
  // ready-but-not-running until their step (trace.hpp).
  detail::Runnable* last = ready_.back();  // what r pushes comes after it
  r->run();
  if (tracer_ == nullptr) return;
  std::int64_t now = now_ns();
  for (detail::Runnable* woken = last != nullptr ? last->next_ : ready_.front(); woken != nullptr;
       woken = woken->next_) {
    if (const detail::TaskCore* task = woken->as_task()) tr->task_ready(task->id(), now);
  }
}

void EventLoop::poll_io(std::int64_t timeout_ns) {
  std::int64_t t0 = virtual_time_ ? real_now_ns() : 0;
  if (timeout_ns != 0) {
    if (timeout_ns > 0) {
      // At most a day at a time, as CPython's MAXIMUM_SELECT_TIMEOUT: the loop
      // then looks again (and the arithmetic below cannot overflow).
      timeout_ns = std::min<std::int64_t>(timeout_ns, 86'400'000'000'000);
      // libuv counts milliseconds: round up, so we never wake before the deadline.
      auto ms = static_cast<std::uint64_t>((timeout_ns + 999'999) / 1'000'000);
      // Arm against a fresh clock: libuv's cached time dates from the last
      // uv_run, and a busy step since then would make the timer already due
      // (issue 8, defect 1). Should it fire before the poll all the same
      // (preempted between here and uv_run), its callback stops the loop,
      // which makes libuv poll with a zero timeout: the poll never blocks
      // without a wake-up armed while a timer is pending.
      uv_update_time(&uv_->loop);
      uv_timer_start(&uv_->wakeup, [](uv_timer_t* t) { uv_stop(t->loop); }, ms, 0);
    }
    uv_ref(reinterpret_cast<uv_handle_t*>(&uv_->async));
    uv_run(&uv_->loop, UV_RUN_ONCE);
    uv_unref(reinterpret_cast<uv_handle_t*>(&uv_->async));
    uv_timer_stop(&uv_->wakeup);
  } else {
    uv_run(&uv_->loop, UV_RUN_NOWAIT);
  }
  iterations_since_poll_ = 0;
  last_poll_ns_ = real_now_ns();
  if (virtual_time_) virtual_now_ += last_poll_ns_ - t0;  // external work takes real time
}

// Runs libuv's signal watchers (and whatever else is ready) without blocking and
// without counting the time as external work: a signal takes no virtual time.
void EventLoop::poll_signals() {
  uv_ref(reinterpret_cast<uv_handle_t*>(&uv_->async));  // else uv_run sees a dead loop
  uv_run(&uv_->loop, UV_RUN_NOWAIT);
  uv_unref(reinterpret_cast<uv_handle_t*>(&uv_->async));
  iterations_since_poll_ = 0;
}

// ---- timers -------------------------------------------------------------------------

namespace detail {

TimerHeap::~TimerHeap() { big_deallocate(data_, capacity_ * sizeof(Entry)); }

void TimerHeap::grow() {
  std::size_t cap = big_capacity((capacity_ ? capacity_ * 2 : 256) * sizeof(Entry)) / sizeof(Entry);
  auto* data = static_cast<Entry*>(big_allocate(cap * sizeof(Entry)));
  if (size_ > 0) std::memcpy(data, data_, size_ * sizeof(Entry));
  big_deallocate(data_, capacity_ * sizeof(Entry));
  data_ = data;
  capacity_ = cap;
}

void TimerHeap::push(Entry e) {
  if (size_ == capacity_) [[unlikely]] grow();
  data_[size_++] = e;
  std::push_heap(data_, data_ + size_, Later{});
}

TimerNode* TimerHeap::pop() noexcept {
  std::pop_heap(data_, data_ + size_, Later{});
  return data_[--size_].timer;
}

void TimerHeap::remove_if(bool (*drop)(TimerNode*) noexcept) noexcept {
  Entry* kept = std::remove_if(data_, data_ + size_, [drop](const Entry& e) { return drop(e.timer); });
  size_ = static_cast<std::size_t>(kept - data_);
  std::make_heap(data_, data_ + size_, Later{});
}

}  // namespace detail

detail::HandleBase* EventLoop::schedule_timer(std::int64_t when, detail::HandleBase* h) {
  h->add_ref();  // the heap's
  push_timer(when, h);
  return h;
}

void EventLoop::push_timer(std::int64_t when, detail::TimerNode* t) {
  t->when_ = when;
  t->seq_ = ++timer_seq_;
  t->in_heap_ = true;
  timers_.push({when, t});
}

void EventLoop::uncount_cancelled() noexcept {
  if (detail::t_cancelled_timers > 0) --detail::t_cancelled_timers;
}

void EventLoop::pop_cancelled_timers() noexcept {
  // CPython's _run_once: when cancelled timers are more than half of a heap of
  // more than 100, rebuild it without them (their callbacks and what they
  // capture go now, not at their deadline: issue 8, defect 10); otherwise drop
  // the cancelled ones at the head.
  if (timers_.size() > 100 && 2 * detail::t_cancelled_timers > timers_.size()) {
    timers_.remove_if([](detail::TimerNode* t) noexcept {
      if (!t->cancelled()) return false;
      t->in_heap_ = false;
      t->drop();  // the heap's reference
      return true;
    });
    detail::t_cancelled_timers = 0;
    return;
  }
  while (!timers_.empty() && timers_.top().timer->cancelled()) {
    detail::TimerNode* t = timers_.pop();
    t->in_heap_ = false;
    t->drop();  // the heap's reference
    uncount_cancelled();
  }
}

// ---- threads ------------------------------------------------------------------------

detail::HandleBase* EventLoop::schedule_threadsafe(detail::HandleBase* h) {
  h->add_ref();  // the queue's
  {
    std::lock_guard lock(ts_mutex_);
    if (closed_) {
      h->release();
      h->release();
      throw RuntimeError("Event loop is closed");
    }
    ts_queue_.push_back(h);
    ts_pending_.store(true, std::memory_order_release);
    // Under the mutex: close() closes the async handle only after it has set
    // closed_ under the same mutex, so the handle is alive here (issue 8, defect 3).
    uv_async_send(&uv_->async);
  }
  return h;
}

void EventLoop::drain_threadsafe() {
  std::vector<detail::HandleBase*> batch;
  {
    std::lock_guard lock(ts_mutex_);
    batch.swap(ts_queue_);
    ts_pending_.store(false, std::memory_order_relaxed);
  }
  for (auto* h : batch) ready_.push(h);
}

void EventLoop::check_thread_slow(const char* what) const {
  if (closed_) throw RuntimeError("Event loop is closed");
  if (!debug_) return;
  if (running_ && std::this_thread::get_id() != thread_id_)
    throw RuntimeError(std::string("Non-thread-safe operation invoked on an event loop other than the "
                                   "current one (") +
                       what + ")");
}

// ---- errors --------------------------------------------------------------------------

void EventLoop::call_exception_handler(const ExceptionContext& context) {
  if (!handler_) {
    default_exception_handler(context);
    return;
  }
  try {
    handler_(*this, context);
  } catch (...) {
    ExceptionContext c{"Unhandled error in exception handler", std::current_exception(), {}, {}};
    detail::print_context(c);
    detail::print_context(context);
  }
}

void EventLoop::default_exception_handler(const ExceptionContext& context) { detail::print_context(context); }

// ---- shutdown -------------------------------------------------------------------------

void EventLoop::cancel_all_tasks() {
  std::vector<AnyTask> to_cancel;
  for (detail::TaskCore* t : tasks_in_creation_order()) to_cancel.emplace_back(t);
  if (to_cancel.empty()) return;
  for (auto& t : to_cancel) t.cancel();
  std::size_t remaining = to_cancel.size();
  for (auto& t : to_cancel) {
    t.add_done_callback([this, &remaining] {
      if (--remaining == 0) stop();
    });
  }
  while (remaining > 0) run_forever();
  for (auto& t : to_cancel) {
    if (t.cancelled()) continue;
    if (auto e = t.exception()) {
      call_exception_handler(ExceptionContext{"unhandled exception during asyncio.run() shutdown", e,
                                              detail::task_repr(t.core()), {}});
    }
  }
}

void EventLoop::shutdown_default_executor() {
  if (auto executor = std::move(default_executor_)) executor->shutdown(true, false);
}

void EventLoop::close() {
  if (running_) throw RuntimeError("Cannot close a running event loop");
  if (closed_) return;
  detail::set_open(this, false);
  {
    std::lock_guard lock(ts_mutex_);
    closed_ = true;
    for (auto* h : ts_queue_) ready_.push(h);
    ts_queue_.clear();
  }
  // What is still scheduled will not run: each entry releases what it holds
  // (a task's step holds nothing: the task is abandoned below).
  while (!ready_.empty()) ready_.pop()->drop();
  for (const detail::TimerHeap::Entry& e : timers_) {
    detail::TimerNode* t = e.timer;
    if (t->cancelled()) uncount_cancelled();
    t->in_heap_ = false;
    t->drop();  // the heap's reference
  }
  timers_.clear();
  // Tasks that never finished: CPython reports them when they are collected.
  std::vector<detail::TaskCore*> pending;
  for (detail::TaskCore* t : tasks_in_creation_order()) {
    t->add_ref();
    pending.push_back(t);
  }
  for (auto* t : pending) t->abandon_pending();
  for (auto* t : pending) t->release();
  // Frames destroyed above may have scheduled callbacks; drop them too.
  while (!ready_.empty()) ready_.pop()->drop();
  tracer_ = nullptr;  // written below, once libuv is closed (issue 8, defect 9)
  dump_signal_.reset();  // closed here, freed by the uv_run below
  signals_.reset();  // closes the signal watchers; libuv restores SIG_DFL
  // Transports and servers nobody closed: close them, freeing their memory.
  detail::close_leftover_handles(&uv_->loop, debug_);
  uv_close(reinterpret_cast<uv_handle_t*>(&uv_->wakeup), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&uv_->async), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&uv_->ready_guard), nullptr);
  uv_run(&uv_->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&uv_->loop) != 0) {
    // Handles of ours still open (a stream not closed): walk and close them.
    uv_walk(
        &uv_->loop,
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(&uv_->loop, UV_RUN_DEFAULT);
    uv_loop_close(&uv_->loop);
  }
  // The frames of the loop's tasks are gone: give back the frame pool's
  // memory they freed (a spike of a million tasks must not stay resident).
  detail::pool_trim();
  // Last, and never throwing: a trace that cannot be written must not lose
  // run()'s result nor leave the loop half closed.
  if (tracer_owner_) {
    try {
      tracer_owner_->write();
    } catch (...) {
      detail::print_context(ExceptionContext{"Failed to write the trace file", std::current_exception(), {}, {}});
    }
  }
}

std::ostream& operator<<(std::ostream& os, const EventLoop& loop) {
  return os << "<EventLoop running=" << (loop.running_ ? "True" : "False")
            << " closed=" << (loop.closed_ ? "True" : "False") << " debug=" << (loop.debug_ ? "True" : "False")
            << " ready=" << loop.ready_.size() << " timers=" << loop.timers_.size()
            << " tasks=" << loop.task_count() << (loop.virtual_time_ ? " virtual_time" : "") << ">";
}

std::ostream& operator<<(std::ostream& os, const Handle& h) {
  if (!h.p_) return os << "<Handle empty>";
  return os << "<" << (h.p_->when_ ? "TimerHandle" : "Handle") << (h.p_->cancelled() ? " cancelled " : " ")
            << h.p_->what_ << ">";
}

EventLoop& get_running_loop() { return static_cast<EventLoop&>(detail::running_loop_core()); }

// ---- run_until_complete / asyncio.run --------------------------------------------------

namespace detail {

void run_until_done(EventLoop& loop, TaskCore& task) {
  if (task.done()) return;
  auto id = next_callback_id();
  task.add_callback(new UserCallback(id, [&loop] { loop.stop(); }));
  loop.run_forever();
  if (!task.done()) {
    task.remove_user_callback(id);
    throw RuntimeError("Event loop stopped before Future completed.");
  }
}

}  // namespace detail
}  // namespace asyncio
