// FutureCore: completion, callbacks, result retrieval (CPython futures.Future).
#include <memory>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "asyncio/futures.hpp"

namespace asyncio::detail {

// ---- the Rare blocks, kept aside ----

struct FutureCore::RareTable {
  std::mutex mutex;
  std::unordered_map<const FutureCore*, std::unique_ptr<Rare>> blocks;
};

FutureCore::RareTable& FutureCore::rare_table() noexcept {
  static auto* table = new RareTable();  // never freed: futures may go after static destructors
  return *table;
}

FutureCore::Rare* FutureCore::rare_lookup() const noexcept {
  RareTable& t = rare_table();
  std::lock_guard lock(t.mutex);
  return t.blocks.find(this)->second.get();
}

FutureCore::Rare& FutureCore::rare_create() {
  auto block = std::make_unique<Rare>();
  Rare& r = *block;
  {
    RareTable& t = rare_table();
    std::lock_guard lock(t.mutex);
    t.blocks.emplace(this, std::move(block));
  }
  has_rare_ = true;
  return r;
}

void FutureCore::rare_erase() noexcept {
  std::unique_ptr<Rare> block;  // freed outside the lock
  {
    RareTable& t = rare_table();
    std::lock_guard lock(t.mutex);
    auto it = t.blocks.find(this);
    block = std::move(it->second);
    t.blocks.erase(it);
  }
  has_rare_ = false;
}

void FutureCore::free_callbacks() noexcept {
  // Callbacks that will never be scheduled: each kind releases what it holds.
  if (has_watcher_tag()) {
    take_watcher()->on_child_dropped();
    return;
  }
  unlink_callbacks_if([](DoneCallback* cb) noexcept {
    cb->drop();
    return true;
  });
}

void FutureCore::schedule_done_callback(DoneCallback* cb) {
  // A done future of a loop that was closed or destroyed: CPython's call_soon
  // raises; pushing onto the dead loop's queue would be a use after free.
  LoopCore* loop = this->loop();
  if (loop == nullptr || (loop != t_running_loop && !loop_is_open(loop))) [[unlikely]] {
    cb->drop();
    throw RuntimeError("Event loop is closed");
  }
  loop->push_ready(cb);
}

bool FutureCore::cancel(std::string msg) {
  log_traceback_ = false;
  if (state_ != FutureState::pending) return false;
  state_ = FutureState::cancelled;
  set_cancel_message(std::move(msg));
  schedule_callbacks();
  return true;
}

void FutureCore::set_cancel_message(std::string msg) {
  if (msg.empty()) {
    if (Rare* r = rare_if_any()) r->cancel_msg.reset();
  } else {
    rare().cancel_msg = std::move(msg);
  }
}

void FutureCore::set_cancel_message_from(const CancelledError& e) {
  if (e.has_args()) {
    rare().cancel_msg = e.message();
  } else if (Rare* r = rare_if_any()) {
    r->cancel_msg.reset();
  }
}

const std::string& FutureCore::cancel_message() const noexcept {
  static const std::string empty;
  const Rare* r = rare_if_any();
  return r != nullptr && r->cancel_msg ? *r->cancel_msg : empty;
}

std::string FutureCore::state_name() const {
  switch (state_) {
    case FutureState::pending:
      return "pending";
    case FutureState::cancelled:
      return "cancelled";
    case FutureState::finished:
      break;
  }
  return has_exc_ ? "finished exception=" + exception_repr(rare_if_any()->exc) : "finished";
}

void FutureCore::throw_not_pending(const char* /*what*/) const {
  // CPython's words: `raise exceptions.InvalidStateError(f'{self._state}: {self!r}')`
  // in futures.py, but the C accelerator (what everyone runs) says "invalid state".
  throw InvalidStateError("invalid state");
}

void FutureCore::set_exception_ptr(std::exception_ptr e) {
  check_pending("set_exception");
  if (!e) throw TypeError("invalid exception object");  // Python: set_exception(None)
  finish(std::move(e));
}

void FutureCore::rethrow_slow() {
  if (state_ == FutureState::pending) throw InvalidStateError("Result is not set.");
  if (state_ == FutureState::cancelled) throw make_cancelled_error();
  log_traceback_ = false;
  std::rethrow_exception(rare_if_any()->exc);
}

std::exception_ptr FutureCore::exception() {
  if (state_ == FutureState::pending) throw InvalidStateError("Exception is not set.");
  if (state_ == FutureState::cancelled) throw make_cancelled_error();
  log_traceback_ = false;
  return raw_exception();
}

const RunnableOps WatcherNode::kOps{
    [](Runnable* r) {
      auto* node = static_cast<WatcherNode*>(static_cast<DoneCallback*>(r));
      ChildWatcher* w = node->watcher;
      FutureCore* child = node->child;
      delete node;
      w->on_child_done(*child);
    },
    [](Runnable* r) noexcept {
      auto* node = static_cast<WatcherNode*>(static_cast<DoneCallback*>(r));
      ChildWatcher* w = node->watcher;
      delete node;
      w->on_child_dropped();
    }};

namespace {
/// What cb_tail_ holds for a watcher registered on a task with no node.
DoneCallback* watcher_tag(ChildWatcher* w, std::uintptr_t tag) noexcept {
  return reinterpret_cast<DoneCallback*>(reinterpret_cast<std::uintptr_t>(w) | tag);
}
}  // namespace

void FutureCore::add_watcher(ChildWatcher* w) {
  if (cb_tail_ == nullptr && is_task_core()) {
    cb_tail_ = watcher_tag(w, kWatcherTag);
    return;
  }
  add_callback(new WatcherNode(w, this));
}

void FutureCore::add_callback_after_watcher(DoneCallback* cb) {
  auto node = std::make_unique<WatcherNode>(nullptr, this);  // may throw: nothing changed yet
  node->watcher = take_watcher();
  add_callback(node.release());
  add_callback(cb);
}

void FutureCore::remove_watcher(ChildWatcher* w) noexcept {
  if (has_watcher_tag()) {
    // Once the task is done, the call is queued (or ran): nothing to remove.
    if (state_ == FutureState::pending && cb_tail_ == watcher_tag(w, kWatcherTag)) cb_tail_ = nullptr;
    return;
  }
  unlink_callbacks_if([w](DoneCallback* cur) noexcept {
    WatcherNode* node = WatcherNode::from(cur);
    if (node == nullptr || node->watcher != w) return false;
    delete node;
    return true;
  });
}

bool FutureCore::remove_callback(DoneCallback* cb) noexcept {
  if (unlink_callbacks_if([cb](DoneCallback* cur) noexcept { return cur == cb; }) == 0) return false;
  cb->next_ = nullptr;
  return true;
}

std::size_t FutureCore::remove_user_callback(std::uint64_t id) noexcept {
  return remove_user_callbacks_if([id](const UserCallback& user) noexcept { return user.id_ == id; });
}

std::uint64_t next_callback_id() noexcept {
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

const RunnableOps UserCallback::kOps{
    [](Runnable* r) {
      UserCallback* cb = UserCallback::from(r);
      try {
        cb->fn_();
      } catch (...) {
        report(t_running_loop, ExceptionContext{"Exception in callback (done callback)",
                                                std::current_exception(), {}, {}});
      }
      delete cb;
    },
    [](Runnable* r) noexcept { delete UserCallback::from(r); }};

void report_unretrieved(FutureCore& f, std::string repr) {
  report(f.loop(), ExceptionContext{"Future exception was never retrieved", f.raw_exception(),
                                    std::move(repr), {}});
}

TaskCore& current_task_for_await() {
  LoopCore* loop = t_running_loop;
  if (loop == nullptr || loop->current_task() == nullptr)
    throw RuntimeError("co_await on a future or sleep outside of a running task");
  return *loop->current_task();
}

TaskCore& suspend_on(FutureCore& fut, std::coroutine_handle<> h) {
  TaskCore& task = current_task_for_await();
  if (&fut == static_cast<FutureCore*>(&task))
    throw RuntimeError("Task cannot await on itself: " + task_repr(task));
  if (fut.loop() != task.loop() && fut.loop() != nullptr) [[unlikely]] {
    // Task.__step: the future would complete on its own loop, if ever, and
    // wake us there: never. (Issue 8, defect 4.)
    std::string what = fut.is_task_core() ? task_repr(static_cast<const TaskCore&>(fut))
                                          : "<Future " + fut.state_name() + ">";
    throw RuntimeError("Task " + task_repr(task) + " got Future " + what + " attached to a different loop");
  }
  task.wait_on(fut);
  task.set_resume_point(h);  // last: the task suspends for sure (TaskCore::set_resume_point)
  return task;
}

}  // namespace asyncio::detail
