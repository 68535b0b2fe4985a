// TaskCore (CPython tasks.Task), sleep, current_task, all_tasks.
#include "asyncio/tasks.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "asyncio/graph.hpp"
#include "asyncio/trace.hpp"

namespace asyncio {
namespace detail {
namespace {
std::atomic<std::uint64_t> g_task_counter{0};  // "Task-N", as CPython's itertools.count

// The traced paths of a step, out of line so that the untraced step stays as
// small as it was (tracing off costs the one branch that chooses).
[[gnu::noinline, gnu::cold]] void resume_traced(TaskCore& t, LoopCore& loop, Tracer& tr) {
  std::int64_t ts = loop.now_ns();
  tr.task_resumed(t.id(), ts);
  auto t0 = std::chrono::steady_clock::now();
  t.take_resume_point().resume();
  auto dur = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  tr.slice(t.id(), ts, dur, "step");
  if (!t.done()) {
    WaitInfo w = describe_wait(t);
    tr.task_suspended(t.id(), loop.now_ns(), std::move(w.on), std::move(w.detail));
  }
}

[[gnu::noinline, gnu::cold]] void trace_end(TaskCore& t, LoopCore& loop, Tracer& tr) {
  std::exception_ptr e = t.raw_exception();
  tr.task_finished(t.id());
  tr.instant(t.id(), loop.now_ns(), t.cancelled() ? "cancelled" : e ? "raised" : "returned",
             e ? exception_type_name(e) + ": " + exception_message(e) : std::string{});
}

[[gnu::noinline, gnu::cold]] void report_never_retrieved(TaskCore& t) noexcept {
  try {
    std::string repr = task_repr(t);
    if (std::string origin = origin_of(&t.promise()); !origin.empty()) repr += " created " + origin;  // debug mode
    report(t.loop(), ExceptionContext{"Task exception was never retrieved", t.raw_exception(), std::move(repr), {}});
  } catch (...) {
    report(t.loop(), ExceptionContext{"Task exception was never retrieved", t.raw_exception(), {}, {}});
  }
}
}  // namespace

// ---- TaskCore ----------------------------------------------------------------

void TaskCore::start_task(LoopCore& loop, std::string_view name) {
  bind_loop(&loop);
  id_ = static_cast<std::uint32_t>(g_task_counter.fetch_add(1, std::memory_order_relaxed) + 1);
  if (!name.empty()) rare().task_name.emplace(name);
  refs_ = 2;  // the loop's, until done, and the returned Task's
  loop.link_task(this);
  loop.push_ready(this);
  if (Tracer* tr = loop.tracer()) [[unlikely]] {
    tr->lane_name(id_, get_name() + " " + coro_name() + "()");
    tr->instant(id_, loop.now_ns(), "created");
    tr->task_ready(id_, loop.now_ns());
  }
}

void TaskCore::step() {
  if (done() || (sub_bits_ & (kMustCancel | kStarted)) == kMustCancel) [[unlikely]] {
    step_unusual();
    return;
  }
  set_flag(kStarted, true);
  fut_waiter_ = nullptr;
  // A task runs on its own loop, the running one (one thread-local load; the
  // task's loop index would cost two).
  LoopCore* loop = t_running_loop;
  loop->current_task_ = this;
  if (Tracer* tr = loop->tracer_) [[unlikely]] {
    resume_traced(*this, *loop, *tr);
  } else {
    take_resume_point().resume();
  }
  // The loop holds a reference until the task is done: `this` is alive. The
  // loop is read again rather than kept across the resume (one register fewer
  // to save on the common path).
  t_running_loop->current_task_ = nullptr;
  if (done()) [[unlikely]] step_done();
}

void TaskCore::step_unusual() {
  if (done()) return;
  // Cancelled before its first step: CPython throws CancelledError into the
  // unstarted coroutine, which ends it at once; the body never runs.
  set_flag(kMustCancel, false);
  finish_cancelled();
  step_done();
}

void TaskCore::step_done() {
  LoopCore* loop = this->loop();
  if (Tracer* tr = loop->tracer_) [[unlikely]] trace_end(*this, *loop, *tr);
  loop->unlink_task(this);
  release();  // the loop's reference; may destroy the frame
}

void TaskCore::pass_cancel(FutureCore& fut) {
  if (fut.cancel(cancel_message())) set_flag(kMustCancel, false);
}

void TaskCore::step_entry(Runnable* r) {
  if (r == nullptr) __builtin_unreachable();  // a queued entry: no null check for the cast
  static_cast<TaskCore*>(static_cast<DoneCallback*>(r))->step();
}

// A done task's own link, queued for the watcher that its tag names
// (FutureCore::add_watcher): the link is the step's again before the call.
namespace {
TaskCore& unmark_watcher_entry(Runnable* r) noexcept {
  auto* t = static_cast<TaskCore*>(static_cast<DoneCallback*>(r));
  t->ops_ = reinterpret_cast<const RunnableOps*>(reinterpret_cast<std::uintptr_t>(t->ops_) & ~Runnable::kWatcherEntry);
  return *t;
}
}  // namespace

void TaskCore::run_watcher(Runnable* r) {
  TaskCore& t = unmark_watcher_entry(r);
  t.take_watcher()->on_child_done(t);
}

void TaskCore::drop_watcher(Runnable* r) noexcept {
  TaskCore& t = unmark_watcher_entry(r);
  t.take_watcher()->on_child_dropped();
}

void TaskCore::finish_task(std::exception_ptr exc) noexcept {
  if (exc) {
    try {
      std::rethrow_exception(exc);
    } catch (const CancelledError& e) {
      // The coroutine let CancelledError out: the task is cancelled, and keeps
      // the message for result()/exception() (CPython's _cancelled_exc).
      set_flag(kCancelledExc, true);
      set_cancel_message_from(e);
      finish_cancelled();
    } catch (...) {
      finish(std::move(exc));
    }
  } else if (flag(kMustCancel)) {
    // cancel() was called while the task ran its last step: it ends cancelled.
    set_flag(kMustCancel, false);
    discard_result();
    finish_cancelled();
  } else {
    finish();
  }
}

CancelledError TaskCore::make_cancelled_error() {
  if (!flag(kCancelledExc)) return cancel_request_error();
  set_flag(kCancelledExc, false);
  std::optional<std::string> msg = take_cancel_message();
  return msg ? CancelledError(std::move(*msg)) : CancelledError();
}

bool TaskCore::cancel(std::string msg) {
  mark_retrieved();
  if (done()) return false;
  ++rare().task_cancels;
  if (Tracer* tr = loop() != nullptr ? loop()->tracer() : nullptr) [[unlikely]]
    tr->instant(id_, loop()->now_ns(), "cancel requested", msg);
  // Keep fut_waiter_: it may be a task that ignores the cancellation, which we
  // will have to cancel again later (CPython's comment).
  if (fut_waiter_ != nullptr && fut_waiter_->cancel(msg)) return true;
  set_flag(kMustCancel, true);
  set_cancel_message(std::move(msg));
  return true;
}

int TaskCore::uncancel() noexcept {
  if (cancelling() > 0) {
    // 3.13: once no request is left, a pending one is withdrawn too.
    if (--rare().task_cancels == 0) set_flag(kMustCancel, false);
  }
  return cancelling();
}

void TaskCore::throw_cancel() {
  set_flag(kMustCancel, false);
  throw cancel_request_error();
}

std::string TaskCore::get_name() const {
  if (const Rare* r = rare_if_any(); r != nullptr && r->task_name) return *r->task_name;
  return "Task-" + std::to_string(id_);
}

void TaskCore::set_name(std::string name) { rare().task_name = std::move(name); }

void CoroPromise::throw_reused() { throw RuntimeError("cannot reuse already awaited coroutine"); }

void CoroPromise::misaligned(const void* p) noexcept {
  std::fprintf(stderr, "asyncio: a coroutine frame or task at %p is not 8-aligned\n", p);
  std::abort();
}

void TaskCore::last_release() noexcept {
  if (exception_unretrieved()) [[unlikely]] report_never_retrieved(*this);
  destroy_frame_and_task();
}

void TaskCore::abandon_pending() noexcept {
  if (fut_waiter_ != nullptr) fut_waiter_->remove_callback(this);
  fut_waiter_ = nullptr;
  loop()->unlink_task(this);
  report(loop(), ExceptionContext{"Task was destroyed but it is pending!", nullptr, task_repr(*this), {}});
  release();
}

std::string task_repr(const TaskCore& t) {
  std::ostringstream os;
  // CPython's _task_repr_info: 'cancelling' while a request is pending.
  os << "<Task " << (t.state() == FutureState::pending && t.cancelling() > 0 ? "cancelling" : t.state_name())
     << " name='" << t.get_name() << "' coro=<" << t.coro_name() << "()>";
  if (t.state() == FutureState::finished && !t.raw_exception()) t.print_result(os);
  os << ">";
  return os.str();
}

// ---- LoopCore -------------------------------------------------------------------

// ---- sleep ------------------------------------------------------------------------

/// sleep()'s future and its timer in one pooled allocation (a
/// future and a timer node; no callback, no handle): CPython's sleep makes a
/// future and a TimerHandle whose callback is futures._set_result_unless_cancelled.
/// Two references: the awaiter's, and the timer heap's (then the ready
/// queue's, when the timer is due).
class SleepFuture final : public TypedFuture<void>, public TimerNode, public PooledCompact<SleepFuture> {
 public:
  explicit SleepFuture(LoopCore* loop) noexcept : TypedFuture<void>(loop), TimerNode(kOps) {}
  static const RunnableOps kOps;
  void release() noexcept {
    if (--refs_ == 0) delete this;
  }
  static SleepFuture* of(Runnable* r) noexcept { return static_cast<SleepFuture*>(static_cast<TimerNode*>(r)); }

 private:
  std::uint32_t refs_ = 2;  // the awaiter's and the heap's; in TimerNode's tail padding
};

// The timer is due: _set_result_unless_cancelled, then the queue's reference goes.
const RunnableOps SleepFuture::kOps{[](Runnable* r) {
                                      SleepFuture* s = of(r);
                                      if (!s->TimerNode::cancelled() && !s->done()) s->set_result();
                                      s->release();
                                    },
                                    [](Runnable* r) noexcept { of(r)->release(); }};

static_assert(sizeof(SleepFuture) <= 80, "a sleep: 48 bytes of future, 32 of timer (refs_ in its tail padding)");

std::int64_t sleep_deadline(const FutureCore& fut) noexcept {
  const auto* f = dynamic_cast<const SleepFuture*>(&fut);
  return f == nullptr ? -1 : f->when_;
}

bool is_sleep_timer(const Runnable* r) noexcept { return r->ops_ == &SleepFuture::kOps; }

void SleepAwaiter::await_suspend(std::coroutine_handle<> h) {
  TaskCore& t = current_task_for_await();
  auto& loop = static_cast<EventLoop&>(*t.loop());
  auto delay_ns = static_cast<std::int64_t>(word());
  if (delay_ns == 0) {  // sleep(0): a bare yield
    set_word(kSuspended);
    loop.push_ready(&t);
    t.set_resume_point(h);  // last: the task suspends for sure (TaskCore::set_resume_point)
    return;
  }
  auto* fut = new SleepFuture(&loop);
  set_word(kSuspended | reinterpret_cast<std::uint64_t>(fut));
  loop.push_timer(deadline_after(loop.now_ns(), delay_ns), fut);  // CPython: loop.time() + delay, uncached
  suspend_on(*fut, h);
}

void SleepAwaiter::await_resume() {
  TaskCore& task = *t_running_loop->current_task();  // the task this awaiter suspended
  if (SleepFuture* fut = future()) {
    fut->TimerNode::cancel();  // the timer, if it has not fired (CPython: h.cancel())
    task.throw_if_cancel_requested(*fut);
    fut->result();
  } else {
    task.throw_if_cancel_requested();
  }
}

SleepAwaiter::~SleepAwaiter() {
  if (SleepFuture* fut = future()) {
    fut->TimerNode::cancel();
    fut->release();
  }
}

}  // namespace detail

// ---- module functions ------------------------------------------------------------------

AnyTask current_task() {
  auto& loop = get_running_loop();
  return AnyTask(loop.current_task());
}

std::vector<AnyTask> all_tasks() {
  auto& loop = get_running_loop();
  std::vector<AnyTask> out;
  out.reserve(loop.task_count());
  for (detail::TaskCore* t : loop.tasks_in_creation_order()) out.emplace_back(t);
  return out;
}

std::ostream& operator<<(std::ostream& os, const AnyTask& t) {
  if (!t.p_) return os << "<Task empty>";
  return os << detail::task_repr(*t.p_);
}

}  // namespace asyncio
