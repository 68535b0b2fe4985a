// Bounded-depth destruction of coroutine chains (coroutines.hpp, kMaxDestroyDepth).
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

}  // namespace asyncio::detail
