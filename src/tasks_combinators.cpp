// gather, wait, wait_for, as_completed: the compiled parts (CPython tasks.py).
#include <algorithm>
#include <ostream>

#include "asyncio/tasks.hpp"
#include "asyncio/tasks_combinators.hpp"

namespace asyncio::detail {

// ---- gather ---------------------------------------------------------------------

void GatherCore::abort_children() noexcept {
  for (std::size_t i = 0; i < nfuts_; ++i) {
    if (children_[i] != nullptr) children_[i]->remove_watcher(this);
  }
}

void GatherCore::throw_different_loop() {
  throw ValueError("The future belongs to a different loop than the one specified as the loop argument");
}

void GatherCore::start() {
  if (nfuts_ == 0) {  // gather(): a future already done with no results
    set_results();
    drop_children_ref();
    return;
  }
  if (ndone_at_start_ == 0) return;
  // Nothing ran since add_child: the children done now were done then.
  for (std::size_t i = 0; i < nfuts_; ++i) {
    if (children_[i]->done()) on_child_done(*children_[i]);
  }
}

bool GatherCore::cancel_children(const std::string& msg) {
  bool ret = false;
  for (std::size_t i = 0; i < nfuts_; ++i) {
    if (children_[i]->cancel(msg)) ret = true;
  }
  // If any child was actually cancelled, the gather propagates the
  // cancellation whatever return_exceptions says (CPython bpo-32684).
  if (ret) cancel_requested_ = true;
  return ret;
}

void GatherCore::on_child_done(FutureCore& fut) {
  ++nfinished_;
  FutureCore& outer = *outer_;
  if (outer.done()) {
    if (!fut.cancelled()) (void)fut.exception();  // mark the exception retrieved
  } else if (!return_exceptions_ && fut.cancelled()) {
    // `exc = fut._make_cancelled_error()`: takes a cancelled task's message.
    outer.set_exception_ptr(std::make_exception_ptr(fut.make_cancelled_error()));
  } else if (std::exception_ptr exc = return_exceptions_ || fut.raw_exception() == nullptr
                                          ? nullptr  // finished with a value: nothing to retrieve
                                          : fut.exception()) {
    outer.set_exception_ptr(std::move(exc));
  } else {
    if (nfinished_ == nfuts_) on_all_done();
  }
  if (nfinished_ == nfuts_) drop_children_ref();  // may destroy *this
}

void GatherCore::on_all_done() {
  FutureCore& outer = *outer_;
  if (cancel_requested_) {
    // CPython builds the results (retrieving the exceptions), then raises the
    // last child's `_make_cancelled_error()`.
    for (std::size_t i = 0; i < nfuts_; ++i) {
      if (!children_[i]->cancelled()) (void)children_[i]->exception();
    }
    outer.set_exception_ptr(std::make_exception_ptr(children_[nfuts_ - 1]->make_cancelled_error()));
    return;
  }
  try {
    set_results();
  } catch (...) {
    if (!outer.done()) outer.set_exception_ptr(std::current_exception());
  }
}

// ---- wait ------------------------------------------------------------------------

void WaitState::on_completion(FutureCore& f) {
  --counter;
  if (counter <= 0 || return_when == ReturnWhen::FIRST_COMPLETED ||
      (return_when == ReturnWhen::FIRST_EXCEPTION && !f.cancelled() && f.exception() != nullptr)) {
    timeout_handle.cancel();
    if (!waiter.done()) waiter.set_result();
  }
}

WaitCleanup::~WaitCleanup() {
  if (!state) return;
  state->timeout_handle.cancel();
  for (auto& [core, id] : callbacks) core->remove_user_callback(id);
}

namespace {
// `_release_waiter(waiter)`.
HandleBase* release_waiter_handle(Future<void> waiter) {
  HandleBase* h = make_handle([w = std::move(waiter)]() mutable {
    if (!w.done()) w.set_result();
  });
  h->what_ = "_release_waiter";
  return h;
}
}  // namespace

std::shared_ptr<WaitState> make_wait_state(ReturnWhen rw, std::size_t n, std::optional<std::int64_t> timeout_ns) {
  auto& loop = get_running_loop();
  auto st = std::make_shared<WaitState>(loop.create_future<void>(), rw, n);
  if (timeout_ns) {
    st->timeout_handle = Handle(loop.schedule_timer(deadline_after(loop.now_ns(), *timeout_ns), release_waiter_handle(st->waiter)));
  }
  return st;
}

// ---- wait_for --------------------------------------------------------------------

Coro<void> cancel_and_wait(FutureCore& fut) {
  Future<void> waiter = get_running_loop().create_future<void>();
  auto id = next_callback_id();
  fut.add_callback(new UserCallback(id, [waiter]() mutable {
    if (!waiter.done()) waiter.set_result();
  }));
  struct RemoveCallback {
    FutureCore& fut;
    std::uint64_t id;
    ~RemoveCallback() { fut.remove_user_callback(id); }
  } remove{fut, id};
  fut.cancel();
  // Not `co_await fut`: waiting on our own future keeps this wait cancellable.
  co_await waiter;
}

// ---- as_completed ----------------------------------------------------------------

void AsCompletedCore::on_completion(std::size_t i) {
  if (ntodo == 0) return;  // _on_timeout() was here first
  in_todo[i] = 0;
  --ntodo;
  done.push_back(static_cast<std::ptrdiff_t>(i));
  wakeup_next();
  if (ntodo == 0) timeout_handle.cancel();
}

void AsCompletedCore::on_timeout() {
  for (std::size_t i = 0; i < in_todo.size(); ++i) {
    if (!in_todo[i]) continue;
    in_todo[i] = 0;
    cores[i]->remove_user_callback(ids[i]);
    done.push_back(-1);  // a dummy value for _wait_for_one()
    wakeup_next();
  }
  ntodo = 0;
}

void AsCompletedCore::wakeup_next() {
  while (!getters.empty()) {
    Waiter<void>* w = getters.front();
    getters.pop_front();
    if (!w->done()) {
      w->set_result();
      break;
    }
  }
}

void AsCompletedCore::remove_getter(Waiter<void>* w) noexcept {
  auto it = std::find(getters.begin(), getters.end(), w);
  if (it != getters.end()) getters.erase(it);
}

AsCompletedGetter::AsCompletedGetter(AsCompletedCore& s) : state(s), waiter(&running_loop_core()) {
  state.getters.push_back(&waiter);
}

void AsCompletedGetter::on_error() {
  waiter.cancel();  // just in case it is not done yet
  state.remove_getter(&waiter);
  // Woken by a completion but cannot take it: wake up the next in line.
  if (!state.done.empty() && !waiter.cancelled()) state.wakeup_next();
}

void arm_as_completed_timeout(const std::shared_ptr<AsCompletedCore>& s, std::int64_t timeout_ns) {
  auto& loop = get_running_loop();
  HandleBase* h = make_handle([weak = std::weak_ptr<AsCompletedCore>(s)] {
    if (auto st = weak.lock()) st->on_timeout();
  });
  h->what_ = "as_completed._on_timeout";
  s->timeout_handle = Handle(loop.schedule_timer(deadline_after(loop.now_ns(), timeout_ns), h));
}

}  // namespace asyncio::detail
