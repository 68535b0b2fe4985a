// asyncio.run (CPython runners.py).
#include "asyncio/runners.hpp"

#include <cstdlib>
#include <cstring>

namespace asyncio::detail {
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

void run_main_and_teardown(EventLoop& loop, TaskCore& main) {
  std::exception_ptr error;
  try {
    run_until_done(loop, main);
  } catch (...) {
    error = std::current_exception();
  }
  // Runner.close(): cancel what is left, shut the default executor down, close.
  try {
    loop.cancel_all_tasks();
    loop.shutdown_default_executor();
  } catch (...) {
    if (!error) error = std::current_exception();
  }
  loop.close();
  if (error) std::rethrow_exception(error);
}

}  // namespace asyncio::detail
