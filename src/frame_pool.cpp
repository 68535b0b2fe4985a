// Slow path of the per-thread frame pool.
//
// Lifetime rule: slab memory is never returned to the system while the process
// runs, because a block may be freed on a thread other than the one that carved
// it (a Task handle outliving its loop's thread). When a thread ends, its pool
// (free lists, slabs, bump region) is parked in a global list and adopted whole
// by the next thread that needs a slab, so a program that runs loops in many
// short-lived threads reuses memory instead of growing.
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "asyncio/detail/frame_pool.hpp"

namespace asyncio::detail {
namespace {

constexpr std::size_t kSlabSize = 64 * 1024;

struct Parked {
  FramePool pool;
  std::vector<void*> slabs;
};

std::mutex g_parked_mutex;
std::atomic<std::size_t> g_slab_count{0};
std::vector<Parked>* g_parked = new std::vector<Parked>();  // never destroyed: see above

struct SlabOwner {
  std::vector<void*> slabs;
  bool adopted = false;
  ~SlabOwner() {
    std::lock_guard lock(g_parked_mutex);
    g_parked->push_back(Parked{t_frame_pool, std::move(slabs)});
    t_frame_pool = FramePool{};
  }
};

thread_local SlabOwner t_slabs;

}  // namespace

std::size_t pool_slab_count() noexcept { return g_slab_count.load(std::memory_order_relaxed); }

void* FramePool::refill(std::size_t cls) {
  if (!t_slabs.adopted) {
    t_slabs.adopted = true;
    std::lock_guard lock(g_parked_mutex);
    if (!g_parked->empty()) {
      Parked parked = std::move(g_parked->back());
      g_parked->pop_back();
      *this = parked.pool;
      t_slabs.slabs = std::move(parked.slabs);
      if (FreeBlock* b = free[cls]) {
        free[cls] = b->next;
        return b;
      }
    }
  }
  std::size_t size = cls * kGranule;
  if (bump == nullptr || static_cast<std::size_t>(bump_end - bump) < size) {
    void* slab = std::malloc(kSlabSize);
    if (slab == nullptr) throw std::bad_alloc();
    t_slabs.slabs.push_back(slab);
    g_slab_count.fetch_add(1, std::memory_order_relaxed);
    bump = static_cast<char*>(slab);
    bump_end = bump + kSlabSize;
  }
  void* p = bump;
  bump += size;
  return p;
}

}  // namespace asyncio::detail
