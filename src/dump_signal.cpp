// The task dump on a signal (graph.hpp): a uv_signal_t owned by the loop,
// freed in its close callback (libuv's rule); one file for this handle kind.
#include <uv.h>

#include <iostream>

#include "asyncio/events.hpp"
#include "asyncio/graph.hpp"

namespace asyncio::detail {

class DumpSignal {
 public:
  static DumpSignal* start(EventLoop& loop, int signum) {
    auto* self = new DumpSignal;
    uv_signal_init(loop.uv_loop(), &self->handle_);
    self->handle_.data = self;
    if (int rc = uv_signal_start(&self->handle_, &DumpSignal::on_signal, signum); rc != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&self->handle_), &DumpSignal::on_close);
      throw RuntimeError(std::string("cannot watch signal ") + std::to_string(signum) + ": " + uv_strerror(rc));
    }
    // Not counted as work: a loop with nothing else to do still ends, and
    // virtual time still jumps. The signal is seen whenever the loop polls.
    uv_unref(reinterpret_cast<uv_handle_t*>(&self->handle_));
    return self;
  }
  void close() noexcept { uv_close(reinterpret_cast<uv_handle_t*>(&handle_), &DumpSignal::on_close); }

 private:
  static void on_signal(uv_signal_t*, int) {
    try {
      print_all_tasks(std::cerr);
    } catch (const std::exception& e) {
      std::cerr << "asyncio: task dump failed: " << e.what() << "\n";
    }
  }
  static void on_close(uv_handle_t* h) { delete static_cast<DumpSignal*>(h->data); }
  uv_signal_t handle_;
};

void DumpSignalCloser::operator()(DumpSignal* s) const noexcept { s->close(); }

}  // namespace asyncio::detail

namespace asyncio {

void EventLoop::dump_tasks_on_signal(int signum) {
  if (!dump_signal_) dump_signal_.reset(detail::DumpSignal::start(*this, signum));
}

}  // namespace asyncio
