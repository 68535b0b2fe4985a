// Debug mode: where each coroutine was created, for the reports of a task
// exception never retrieved and of a coroutine never awaited (CPython's
// `source_traceback`, kept as "in task 'Task-1' (main())": C++ has no cheap
// stack walk, the creating task and its coroutine are free).
#include <string>
#include <unordered_map>

#include "asyncio/detail/core.hpp"

namespace asyncio::detail {
namespace {
thread_local std::unordered_map<const TaskCore*, std::string>* t_origins = nullptr;
}  // namespace

void note_origin(const TaskCore* p) {
  if (t_origins == nullptr) t_origins = new std::unordered_map<const TaskCore*, std::string>;
  LoopCore* loop = t_running_loop;
  const TaskCore* creator = loop != nullptr ? loop->current_task() : nullptr;
  (*t_origins)[p] = creator != nullptr ? "in task '" + creator->get_name() + "' (" + creator->coro_name() + "())"
                                       : std::string("outside any task");
  t_origin_count = t_origins->size();
}

void forget_origin(const TaskCore* p) noexcept {
  if (t_origins == nullptr) return;
  t_origins->erase(p);
  t_origin_count = t_origins->size();
  if (t_origin_count == 0) {
    delete t_origins;
    t_origins = nullptr;
  }
}

std::string origin_of(const TaskCore* p) {
  if (t_origins == nullptr) return {};
  auto it = t_origins->find(p);
  return it == t_origins->end() ? std::string{} : it->second;
}

}  // namespace asyncio::detail
