// Debug mode: where each coroutine was defined and created, and where it
// awaits now (detail/await_site.hpp), for the reports of a task exception never
// retrieved, of a coroutine never awaited and of a slow step, and for graph.hpp's
// dump. CPython keeps a `source_traceback` per task; C++ has no cheap stack
// walk, so the report gives the create_task call's file:line, the creating task
// and its coroutine, and the coroutine's definition.
#include <fmt/core.h>

#include <string>
#include <unordered_map>

#include "asyncio/detail/await_site.hpp"
#include "asyncio/detail/core.hpp"

namespace asyncio::detail {
namespace {

struct Origin {
  std::string creator;  // "in task 'Task-1' (main())", "outside any task"
  CallSite defined;     // the coroutine's definition
  CallSite created;     // the create_task call, for a task
};

thread_local std::unordered_map<const CoroPromise*, Origin>* t_origins = nullptr;

Origin& entry(const CoroPromise* p) {
  if (t_origins == nullptr) t_origins = new std::unordered_map<const CoroPromise*, Origin>;
  Origin& o = (*t_origins)[p];
  t_origin_count = t_origins->size();
  return o;
}

const Origin* find(const CoroPromise* p) noexcept {
  if (t_origins == nullptr) return nullptr;
  auto it = t_origins->find(p);
  return it == t_origins->end() ? nullptr : &it->second;
}

std::string format_site(CallSite s) { return s.file == nullptr ? std::string{} : fmt::format("{}:{}", s.file, s.line); }

}  // namespace

void note_origin(const CoroPromise* p, CallSite where) {
  LoopCore* loop = t_running_loop;
  const TaskCore* creator = loop != nullptr ? loop->current_task() : nullptr;
  Origin& o = entry(p);
  o.creator = creator != nullptr ? "in task '" + creator->get_name() + "' (" + creator->coro_name() + "())"
                                 : std::string("outside any task");
  o.defined = where;
}

void note_created_at(const CoroPromise* p, CallSite site) noexcept {
  try {
    entry(p).created = site;
  } catch (...) {  // bad_alloc: the report will only lack this line
  }
}

void forget_origin(const CoroPromise* p) noexcept {
  if (t_origins == nullptr) return;
  t_origins->erase(p);
  t_origin_count = t_origins->size();
  if (t_origin_count == 0) {
    delete t_origins;
    t_origins = nullptr;
  }
}

std::string origin_of(const CoroPromise* p) {
  const Origin* o = find(p);
  if (o == nullptr || o->creator.empty()) return {};
  if (o->created.file == nullptr) return o->creator;
  return "at " + format_site(o->created) + " " + o->creator;
}

std::string definition_of(const CoroPromise* p) {
  const Origin* o = find(p);
  return o == nullptr ? std::string{} : format_site(o->defined);
}


}  // namespace asyncio::detail
