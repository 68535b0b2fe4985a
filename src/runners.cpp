// asyncio.run and asyncio.Runner (CPython runners.py).
#include "asyncio/runners.hpp"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "unix_signals.hpp"

namespace asyncio {
namespace detail {
namespace {

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

}  // namespace

std::unique_ptr<EventLoop> make_run_loop(const RunOptions& options) {
  auto loop = std::make_unique<EventLoop>(options.virtual_time || env_flag("ASYNCIO_VIRTUAL_TIME"));
  loop->set_debug(options.debug || env_flag("ASYNCIO_DEBUG"));
  std::string trace = options.trace_path;
  if (trace.empty()) {
    if (const char* v = std::getenv("ASYNCIO_TRACE")) trace = v;
  }
  if (!trace.empty()) loop->enable_tracing(std::move(trace));
  if (env_flag("ASYNCIO_DUMP_ON_SIGNAL")) loop->dump_tasks_on_signal(SIGUSR1);  // graph.hpp
  return loop;
}

}  // namespace detail

Runner::~Runner() {
  try {
    close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asyncio.Runner: error while closing: %s\n", e.what());
  } catch (...) {
    std::fputs("asyncio.Runner: error while closing\n", stderr);
  }
}

EventLoop& Runner::get_loop() {
  if (state_ == State::closed) throw RuntimeError("Runner is closed");
  if (state_ == State::created) {
    loop_ = detail::make_run_loop(options_);
    state_ = State::initialized;
  }
  return *loop_;
}

void Runner::on_sigint(detail::TaskCore& task) {
  // Runner._on_sigint: the first interrupt cancels the main task, the next stops.
  ++interrupt_count_;
  if (interrupt_count_ == 1 && !task.done()) {
    task.cancel();
    return;
  }
  interrupted_now_ = true;
  loop_->stop();
}

void Runner::run_main(detail::TaskCore& task) {
  interrupt_count_ = 0;
  interrupted_now_ = false;
  detail::UnixSignals& signals = loop_->unix_signals();
  bool sigint = signals.set_fallback_if_default(SIGINT, [this, &task] { on_sigint(task); });
  struct Restore {
    detail::UnixSignals& signals;
    bool active;
    ~Restore() {
      if (active) signals.clear_fallback(SIGINT);
    }
  } restore{signals, sigint};
  try {
    detail::run_until_done(*loop_, task);
  } catch (const RuntimeError&) {
    if (!interrupted_now_) throw;  // "Event loop stopped before Future completed."
  }
  if (interrupted_now_) throw KeyboardInterrupt();
  if (interrupt_count_ > 0 && task.cancelled() && task.uncancel() == 0) throw KeyboardInterrupt();
}

void Runner::close() {
  if (state_ != State::initialized) return;
  struct Finally {
    Runner* self;
    ~Finally() {
      self->loop_->close();
      self->loop_.reset();
      self->state_ = State::closed;
    }
  } finally{this};
  loop_->cancel_all_tasks();
  loop_->shutdown_default_executor();
}

std::ostream& operator<<(std::ostream& os, const Runner& r) {
  static constexpr const char* names[] = {"created", "initialized", "closed"};
  return os << "<Runner " << names[static_cast<int>(r.state_)] << " interrupts=" << r.interrupt_count_ << ">";
}

}  // namespace asyncio
