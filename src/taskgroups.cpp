// TaskGroup (CPython taskgroups.py; __aexit__ as 3.13, i.e. 3.12 + gh-116720).
#include "asyncio/taskgroups.hpp"

#include <memory>
#include <sstream>

namespace asyncio {
namespace {

// Python's `_is_base_error`: SystemExit and KeyboardInterrupt only. Any other
// BaseException (a user's subclass) goes into the ExceptionGroup
// (test_taskgroups.py's test_taskgroup_20a/21a).
bool is_base_error(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const SystemExit&) {
    return true;
  } catch (const KeyboardInterrupt&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

/// A child's node: its done callback and its link in the group's list. Holds
/// a reference to the task; run or dropped, it frees itself (kChildOps).
struct TaskGroup::Child final : detail::DoneCallback, detail::PooledCompact<TaskGroup::Child> {
  Child(TaskGroup* g, detail::TaskCore* t) noexcept : DoneCallback(kChildOps), group(g), task(t) {}
  TaskGroup* group;  // null once the group is gone
  detail::TaskCore* task;
  Child* prev = nullptr;
  Child* next = nullptr;
};

TaskGroup::~TaskGroup() {
  // Only when the group's frame is destroyed without exiting (a parent
  // destroyed pending at loop close): detach the nodes.
  for (Child* c = head_; c != nullptr;) {
    Child* next = c->next;
    if (c->task->remove_callback(c)) {
      c->task->release();
      delete c;
    } else {
      c->group = nullptr;  // queued: it frees itself when it runs
    }
    c = next;
  }
}

std::string TaskGroup::repr() const {
  std::ostringstream os;
  os << *this;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const TaskGroup& tg) {
  os << "<TaskGroup";
  if (tg.ntasks_ > 0) os << " tasks=" << tg.ntasks_;
  if (!tg.errors_.empty()) os << " errors=" << tg.errors_.size();
  if (tg.aborting_) {
    os << " cancelling";
  } else if (tg.entered_) {
    os << " entered";
  }
  return os << ">";
}

void TaskGroup::enter() {
  if (entered_) throw RuntimeError("TaskGroup " + repr() + " has already been entered");
  detail::LoopCore& loop = detail::running_loop_core();
  parent_ = loop.current_task();
  if (parent_ == nullptr) throw RuntimeError("TaskGroup " + repr() + " cannot determine the parent task");
  loop_ = &loop;
  entered_ = true;
}

std::string TaskGroup::creation_error() const {
  if (!entered_) return "TaskGroup " + repr() + " has not been entered";
  if (exiting_ && ntasks_ == 0) return "TaskGroup " + repr() + " is finished";
  if (aborting_) return "TaskGroup " + repr() + " is shutting down";
  return {};
}

void TaskGroup::track(detail::TaskCore& task) {
  auto* c = new Child(this, &task);
  task.add_ref();
  c->prev = tail_;
  (tail_ != nullptr ? tail_->next : head_) = c;
  tail_ = c;
  ++ntasks_;
  task.add_callback(c);
}

void TaskGroup::unlink(Child* c) noexcept {
  (c->prev != nullptr ? c->prev->next : head_) = c->next;
  (c->next != nullptr ? c->next->prev : tail_) = c->prev;
  c->prev = c->next = nullptr;
  --ntasks_;
}

// Run: the group's `_on_task_done`, then the node goes with its reference.
// Dropped (the loop closes with it queued, before the group's frame goes): it
// leaves the group's list and goes the same way, without telling the group.
const detail::RunnableOps TaskGroup::kChildOps{
    [](detail::Runnable* r) {
      std::unique_ptr<Child> c(static_cast<Child*>(static_cast<detail::DoneCallback*>(r)));
      struct Release {
        detail::TaskCore* task;
        ~Release() { task->release(); }
      } release{c->task};
      if (c->group != nullptr) c->group->on_task_done(*c);
    },
    [](detail::Runnable* r) noexcept {
      auto* c = static_cast<Child*>(static_cast<detail::DoneCallback*>(r));
      if (c->group != nullptr) c->group->unlink(c);
      c->task->release();
      delete c;
    }};

void TaskGroup::on_task_done(Child& c) {
  detail::TaskCore& task = *c.task;
  unlink(&c);
  if (on_completed_ && ntasks_ == 0 && !on_completed_->done()) on_completed_->set_result();
  if (task.cancelled()) return;
  std::exception_ptr exc = task.exception();
  if (!exc) return;
  errors_.push_back(exc);
  if (is_base_error(exc) && !base_error_) base_error_ = exc;
  if (parent_->done()) {
    // Not sure if this case is possible (CPython's words), but handle it.
    detail::report(loop_, ExceptionContext{"Task " + detail::task_repr(task) +
                                               " has errored out but its parent task " +
                                               detail::task_repr(*parent_) + " is already completed",
                                           exc, detail::task_repr(task), {}});
    return;
  }
  if (!aborting_ && !parent_cancel_requested_) {
    // Interrupt the body: cancel the parent, and take it back in __aexit__.
    abort();
    parent_cancel_requested_ = true;
    parent_->cancel();
  }
}

void TaskGroup::abort() {
  aborting_ = true;
  for (Child* c = head_; c != nullptr; c = c->next) {
    if (!c->task->done()) c->task->cancel();
  }
}

Coro<void> TaskGroup::exit(std::exception_ptr exc) {
  exiting_ = true;
  if (exc && is_base_error(exc) && !base_error_) base_error_ = exc;
  const bool et_cancelled = exc && detail::is_cancelled_error(exc);
  std::exception_ptr propagate_cancellation_error = et_cancelled ? exc : nullptr;
  if (exc && !aborting_) {
    // The parent is being cancelled, or the body raised: stop the children.
    abort();
  }
  // A loop, because the wait can be cancelled several times if the parent is
  // cancelled repeatedly (or once while our own cancellation is under way).
  while (ntasks_ > 0) {
    if (!on_completed_) on_completed_.emplace(loop_);
    std::exception_ptr ex;
    try {
      co_await detail::FutureAwaiter<void>{&*on_completed_};
    } catch (const CancelledError&) {
      ex = std::current_exception();
    }
    if (ex && !aborting_) {
      // The parent was cancelled while the body had finished and children ran.
      propagate_cancellation_error = ex;
      abort();
    }
    on_completed_.reset();
  }
  if (base_error_) std::rethrow_exception(base_error_);
  if (parent_cancel_requested_) {
    // We cancelled the parent: take it back. No other request left: the
    // CancelledError was ours, do not propagate it.
    if (parent_->uncancel() == 0) propagate_cancellation_error = nullptr;
  }
  // A cancellation propagates, unless there are errors: those have priority.
  if (propagate_cancellation_error && errors_.empty()) std::rethrow_exception(propagate_cancellation_error);
  if (exc && !et_cancelled) errors_.push_back(exc);
  if (!errors_.empty()) {
    // The parent is being cancelled from outside: uncancel and cancel again,
    // so that the request survives the ExceptionGroup (count kept stable).
    if (parent_->cancelling() > 0) {
      parent_->uncancel();
      parent_->cancel();
    }
    std::vector<std::exception_ptr> errors = std::move(errors_);
    errors_.clear();
    throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors));
  }
}

}  // namespace asyncio
