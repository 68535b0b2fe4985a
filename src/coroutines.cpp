// Bounded-depth destruction of coroutine chains (coroutines.hpp, kMaxDestroyDepth),
// and the coroutine name registry (CoroPromise::name, detail/core.hpp).
#include <mutex>
#include <unordered_map>
#include <vector>

#include "asyncio/coroutines.hpp"

namespace asyncio::detail {
namespace {
thread_local std::vector<std::coroutine_handle<>> t_deferred_frames;
}  // namespace

void defer_destroy(std::coroutine_handle<> h) noexcept {
  try {
    t_deferred_frames.push_back(h);
    t_destroy_deferred = true;
  } catch (...) {
    h.destroy();  // no memory for the list: recurse rather than leak
  }
}

void destroy_deferred() noexcept {
  ++t_destroy_depth;  // frames destroyed here defer their own chains to this loop
  while (!t_deferred_frames.empty()) {
    std::coroutine_handle<> h = t_deferred_frames.back();
    t_deferred_frames.pop_back();
    h.destroy();
  }
  t_destroy_deferred = false;
  --t_destroy_depth;
}

// ---- coroutine names --------------------------------------------------------------

namespace {
// Every thread's registrations, for a frame named on another thread than the
// one that made it, and for keys whose cache slot another key took since.
std::mutex g_names_mutex;
std::unordered_map<const void*, const char*>& global_names() {
  static auto* names = new std::unordered_map<const void*, const char*>();  // never freed: frames may outlive statics
  return *names;
}
}  // namespace

void register_coroutine_name_slow(const void* key, const char* name) noexcept {
  try {
    std::lock_guard lock(g_names_mutex);
    global_names().try_emplace(key, name);
  } catch (...) {  // bad_alloc: this frame's name will read "<coroutine>" unless cached
  }
  coro_name_slot(key) = {key, name};
}

const char* coroutine_name_of(const void* key) noexcept {
  const CoroNameSlot& slot = coro_name_slot(key);
  if (slot.key == key) return slot.name;
  std::lock_guard lock(g_names_mutex);
  auto it = global_names().find(key);
  return it != global_names().end() ? it->second : "<coroutine>";
}

}  // namespace asyncio::detail
