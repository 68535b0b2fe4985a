// Timeout (CPython timeouts.py, 3.12).
#include "asyncio/timeouts.hpp"

#include <fmt/core.h>

#include <cmath>

namespace asyncio {
namespace {

std::optional<std::int64_t> to_ns(std::optional<double> when) {
  if (!when) return std::nullopt;
  return detail::when_to_ns(*when);
}

const char* state_value(Timeout::State s) {
  switch (s) {
    case Timeout::State::created:
      return "created";
    case Timeout::State::active:
      return "active";
    case Timeout::State::expiring:
      return "expiring";
    case Timeout::State::expired:
      return "expired";
    case Timeout::State::finished:
      break;
  }
  return "finished";
}

}  // namespace


Timeout::Timeout(std::optional<double> when) : when_ns_(to_ns(when)), when_s_(when) {}

Timeout::~Timeout() { handle_.cancel(); }

Timeout timeout(double seconds) {
  auto& loop = get_running_loop();
  // Python: timeout_at(loop.time() + delay); when() returns that sum.
  return Timeout(Timeout::Nanoseconds{detail::deadline_in(loop.now_ns(), seconds)},
                 loop.time() + seconds);
}

std::optional<double> Timeout::when() const noexcept {
  if (!when_ns_) return std::nullopt;
  if (when_s_) return when_s_;  // the user's number, exactly
  return detail::ns_to_seconds(*when_ns_);
}

void Timeout::reschedule(std::optional<double> when) {
  reschedule_ns(to_ns(when));
  when_s_ = when;
}

void Timeout::reschedule_ns(std::optional<std::int64_t> when_ns) {
  if (state_ != State::active) {
    if (state_ == State::created) throw RuntimeError("Timeout has not been entered");
    throw RuntimeError(std::string("Cannot change state of ") + state_value(state_) + " Timeout");
  }
  when_ns_ = when_ns;
  when_s_.reset();
  handle_.cancel();
  handle_ = Handle();
  if (!when_ns) return;
  auto& loop = get_running_loop();
  detail::HandleBase* h = detail::make_handle([this] { on_timeout(); });
  h->what_ = "Timeout._on_timeout";
  if (*when_ns <= loop.now_ns()) {
    handle_ = Handle(loop.schedule_soon(h));
  } else {
    handle_ = Handle(loop.schedule_timer(*when_ns, h));
  }
}

void Timeout::enter() {
  if (state_ != State::created) throw RuntimeError("Timeout has already been entered");
  detail::LoopCore* loop = detail::t_running_loop;
  detail::TaskCore* task = loop != nullptr ? loop->current_task() : nullptr;
  if (task == nullptr) throw RuntimeError("Timeout should be used inside a task");
  state_ = State::active;
  task_ = task;
  cancelling_ = task->cancelling();
  reschedule_ns(when_ns_);
}

void Timeout::exit(const std::exception_ptr& exc) {
  if (state_ != State::active && state_ != State::expiring)
    throw RuntimeError(std::string("Timeout exited in state ") + state_value(state_));
  handle_.cancel();
  handle_ = Handle();
  detail::TaskCore* task = std::exchange(task_, nullptr);
  if (state_ == State::expiring) {
    state_ = State::expired;
    // No new cancel requests since entry: the CancelledError is ours.
    if (task->uncancel() <= cancelling_ && exc && detail::is_cancelled_error(exc)) throw TimeoutError();
  } else {
    state_ = State::finished;
  }
}

void Timeout::on_timeout() {
  task_->cancel();
  state_ = State::expiring;
  handle_ = Handle();  // drop the reference early (the loop holds its own while running us)
}

std::ostream& operator<<(std::ostream& os, const Timeout& t) {
  os << "<Timeout [" << state_value(t.state_) << "]";
  if (t.state_ == Timeout::State::active) {
    if (auto w = t.when()) {
      os << fmt::format(" when={}", std::round(*w * 1000.0) / 1000.0);
    } else {
      os << " when=None";
    }
  }
  return os << ">";
}

}  // namespace asyncio
