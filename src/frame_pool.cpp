// Slow path of the per-thread frame pool: slabs, and giving memory back.
//
// Slabs are 64 KiB, 64 KiB-aligned, mapped 32 at a time with mmap: one 2 MiB
// region, 2 MiB-aligned, which the kernel is asked to back with a transparent
// huge page (madvise MADV_HUGEPAGE; a no-op where THP is "never"). Frames are
// small and a spike touches many of them: with 4 KiB pages every 4 KiB of new
// frames is a page fault, which costs ~10 us in a virtual machine (measured
// on the bench machine: 1M tasks' frames, 70,779 faults, 0.71 s of system
// time; with huge pages 16,091 faults, all from malloc). A thread's first
// region is 4 slabs in 4 KiB pages, so a thread that runs a few coroutines
// does not hold 2 MiB for them. Trimming a slab inside
// a huge page splits it; the memory is given back all the same. Lifetime
// rule: a slab is never unmapped while the process runs, because a block may
// be freed on a thread other than the one that carved it (a Task handle
// outliving its loop's thread). Its *memory* is given back all the same once
// every block carved from it is on this thread's free lists (pool_trim): the
// blocks leave the lists, madvise(MADV_DONTNEED) drops the pages, and the slab
// waits, mapped but not resident, to be carved again. A block of the slab
// freed on another thread sits on that thread's lists, so the slab never
// looks free here and is not trimmed: trimming cannot lose a block.
//
// When a thread ends, its pool (free lists, slabs, bump region) is parked in
// a global list and adopted whole by the next thread that needs a slab, so a
// program that runs loops in many short-lived threads reuses memory instead
// of growing.
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "asyncio/detail/big_buffer.hpp"  // map_aligned
#include "asyncio/detail/frame_pool.hpp"

namespace asyncio::detail {
namespace {

constexpr std::size_t kSlabSize = 64 * 1024;
constexpr std::size_t kSlabsPerMap = 32;
constexpr std::size_t kFirstSlabs = 4;  // a thread's first region (map_slabs)
/// A trim is worth a pass over the free lists once the slabs carved grew by
/// this many (4 MiB) over what the last trim left.
constexpr std::size_t kTrimGrowth = 64;

struct Slab {
  char* base;
  std::size_t carved;  // bytes carved from the start; the bump slab's is updated at trim
};

/// The slabs a thread owns: carved ones (holding blocks, live or free) and
/// spare ones (not resident, ready to carve).
struct Slabs {
  std::vector<Slab> carved;
  std::vector<char*> spare;
  std::size_t floor_after_trim = 0;  // carved.size() after the last trim
};

struct Parked {
  FramePool pool;
  Slabs slabs;
};

std::mutex g_parked_mutex;
std::atomic<std::size_t> g_slab_count{0};
std::vector<Parked>* g_parked = new std::vector<Parked>();  // never destroyed: see above

struct SlabOwner {
  Slabs slabs;
  bool adopted = false;
  ~SlabOwner() {
    std::lock_guard lock(g_parked_mutex);
    g_parked->push_back(Parked{t_frame_pool, std::move(slabs)});
    t_frame_pool = FramePool{};
  }
};

thread_local SlabOwner t_slabs;

/// Room for `more` elements in `v`, growing geometrically (reserve(size() + k)
/// alone would reallocate at every call). May throw bad_alloc.
template <class V>
void make_room(V& v, std::size_t more) {
  if (v.capacity() - v.size() < more) v.reserve(std::max(2 * v.capacity(), v.size() + more));
}

/// The slabs being trimmed, by address: an open-addressing table from a slab's
/// base to its index in `carved` (a pass over a million free blocks looks each
/// one up).
class SlabIndex {
 public:
  explicit SlabIndex(const std::vector<Slab>& slabs) {
    std::size_t cap = 16;
    while (cap < 2 * slabs.size()) cap *= 2;
    mask_ = cap - 1;
    keys_.assign(cap, 0);
    values_.assign(cap, 0);
    for (std::size_t i = 0; i < slabs.size(); ++i) {
      std::uintptr_t key = reinterpret_cast<std::uintptr_t>(slabs[i].base);
      std::size_t h = hash(key);
      while (keys_[h] != 0) h = (h + 1) & mask_;
      keys_[h] = key;
      values_[h] = i;
    }
  }
  /// The index of the slab holding `p`, or -1 when it is not one of ours.
  std::ptrdiff_t find(const void* p) const noexcept {
    std::uintptr_t key = reinterpret_cast<std::uintptr_t>(p) & ~(kSlabSize - 1);
    for (std::size_t h = hash(key);; h = (h + 1) & mask_) {
      if (keys_[h] == key) return static_cast<std::ptrdiff_t>(values_[h]);
      if (keys_[h] == 0) return -1;
    }
  }

 private:
  std::size_t hash(std::uintptr_t key) const noexcept {
    return static_cast<std::size_t>(((key >> 16) * 0x9E3779B97F4A7C15ull) >> 20) & mask_;
  }
  std::size_t mask_ = 0;
  std::vector<std::uintptr_t> keys_;
  std::vector<std::size_t> values_;
};

/// Maps kSlabsPerMap slabs, one region aligned on its size (2 MiB, a huge
/// page), onto `spare` (not resident until touched). Not `huge` (a thread's
/// first region): kFirstSlabs slabs only, in 4 KiB pages, so that a spike's
/// frames fault in huge pages after 256 KiB (a whole first region of 4 KiB
/// pages was 512 faults, 5-10 ms of W3's overhead on the bench machine).
void map_slabs(std::vector<char*>& spare, bool huge) {
  static_assert(kSlabSize * kSlabsPerMap == std::size_t{2} << 20, "a region is one huge page");
  const std::size_t count = huge ? kSlabsPerMap : kFirstSlabs;
  make_room(spare, count);  // may throw: before anything is mapped
  char* region = static_cast<char*>(map_aligned(kSlabSize * count, huge));
  for (std::size_t i = count; i-- > 0;) spare.push_back(region + i * kSlabSize);
}

/// Gives back the pages of the slabs in [first, last) (madvise
/// MADV_DONTNEED), one call per run of adjacent slabs: a whole 2 MiB region
/// in one call drops its huge page at once, where a call per 64 KiB slab
/// splits it first (160 calls took 16 ms at the end of `io_demo`'s scale
/// run). Sorts the range, which is all it changes. (Unused when the pool is
/// bypassed under AddressSanitizer.)
[[maybe_unused]] void drop_pages(std::vector<char*>::iterator first, std::vector<char*>::iterator last) noexcept {
  std::sort(first, last);
  while (first != last) {
    char* start = *first;
    char* end = start + kSlabSize;
    for (++first; first != last && *first == end; ++first) end += kSlabSize;
    ::madvise(start, static_cast<std::size_t>(end - start), MADV_DONTNEED);
  }
}

}  // namespace

std::size_t pool_slab_count() noexcept { return g_slab_count.load(std::memory_order_relaxed); }

std::size_t pool_free_blocks([[maybe_unused]] std::size_t size) noexcept {
  std::size_t n = 0;
#ifndef ASYNCIO_POOL_DISABLED
  std::size_t cls = pool_class(size);
  if (cls < FramePool::kClasses)
    for (FramePool::FreeBlock* b = t_frame_pool.free[cls]; b != nullptr; b = b->next) ++n;
#endif
  return n;
}

std::size_t pool_resident_slabs() noexcept { return t_slabs.slabs.carved.size(); }

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
  // An odd class is carved two blocks at a time, so that the bump pointer
  // stays 16-aligned for the even classes (frames): the second block goes to
  // the free list.
  const std::size_t block = cls * kGranule;
  const std::size_t size = (cls & 1) != 0 ? 2 * block : block;
  if (bump == nullptr || static_cast<std::size_t>(bump_end - bump) < size) {
    Slabs& slabs = t_slabs.slabs;
    if (bump != nullptr) slabs.carved.back().carved = static_cast<std::size_t>(bump - slabs.carved.back().base);
    if (slabs.spare.empty()) map_slabs(slabs.spare, !slabs.carved.empty());
    make_room(slabs.carved, 1);  // may throw: before the slab leaves `spare`
    char* slab = slabs.spare.back();
    slabs.spare.pop_back();
    slabs.carved.push_back(Slab{slab, 0});
    g_slab_count.fetch_add(1, std::memory_order_relaxed);
    bump = slab;
    bump_end = bump + kSlabSize;
  }
  char* p = bump;
  bump += size;
  if (size != block) {
    auto* second = reinterpret_cast<FreeBlock*>(p + block);
    second->next = free[cls];
    free[cls] = second;
  }
  return p;
}

bool pool_trim_due() noexcept {
  const Slabs& slabs = t_slabs.slabs;
  return slabs.carved.size() >= slabs.floor_after_trim + kTrimGrowth;
}

std::size_t pool_trim() noexcept {
#ifdef ASYNCIO_POOL_DISABLED
  return 0;
#else
  FramePool& pool = t_frame_pool;
  Slabs& slabs = t_slabs.slabs;
  if (slabs.carved.empty()) return 0;
  // The bump slab's carved bytes are where the bump pointer is.
  Slab& last = slabs.carved.back();
  if (pool.bump != nullptr) last.carved = static_cast<std::size_t>(pool.bump - last.base);
  char* bump_slab = pool.bump != nullptr ? last.base : nullptr;
  try {
    // Free bytes per slab, summed over the free lists. Blocks do not overlap
    // and a block is on one list at most, so free == carved means every block
    // carved from the slab is free here.
    const std::vector<Slab>& carved = slabs.carved;
    const SlabIndex index(carved);
    std::vector<std::size_t> free_bytes(carved.size(), 0);
    auto slab_of = [&index](const void* p) { return index.find(p); };  // -1: another thread's
    std::size_t foreign = 0;  // blocks of other threads' slabs, freed here
    // The lists are walked side by side, a block of each in turn: the blocks
    // of a list are scattered (freed in any order), so each step is a cache
    // miss, and the misses of different lists overlap (one list after the
    // other took ~200 ns a block: 8 ms for 36K blocks at the end of
    // io_demo's scale run).
    FramePool::FreeBlock* cursor[FramePool::kClasses];
    std::size_t bytes[FramePool::kClasses];
    std::size_t lists = 0;
    for (std::size_t cls = 1; cls < FramePool::kClasses; ++cls) {
      if (pool.free[cls] == nullptr) continue;
      cursor[lists] = pool.free[cls];
      bytes[lists++] = cls * FramePool::kGranule;
    }
    while (lists > 0) {
      for (std::size_t k = 0; k < lists;) {
        FramePool::FreeBlock* b = cursor[k];
        if (std::ptrdiff_t i = slab_of(b); i >= 0) {
          free_bytes[static_cast<std::size_t>(i)] += bytes[k];
        } else {
          ++foreign;
        }
        if ((cursor[k] = b->next) != nullptr) {
          ++k;
        } else {  // this list is done: the last one takes its place
          --lists;
          cursor[k] = cursor[lists];
          bytes[k] = bytes[lists];
        }
      }
    }
    std::vector<bool> trim(carved.size(), false);
    std::size_t ntrim = 0;
    for (std::size_t i = 0; i < carved.size(); ++i) {
      if (free_bytes[i] == carved[i].carved) {
        trim[i] = true;
        ++ntrim;
      }
    }
    if (ntrim == 0) {
      slabs.floor_after_trim = slabs.carved.size();
      return 0;
    }
    make_room(slabs.spare, ntrim);  // may throw: before anything changed
    std::vector<Slab> kept;
    kept.reserve(carved.size() - ntrim);
    // Unlink the blocks of the trimmed slabs, keeping the others in order
    // (when every block on the lists goes, as when a loop closes, at once).
    const bool all = ntrim == carved.size() && foreign == 0;
    for (std::size_t cls = 1; cls < FramePool::kClasses; ++cls) {
      if (all) {
        pool.free[cls] = nullptr;
        continue;
      }
      FramePool::FreeBlock** link = &pool.free[cls];
      while (FramePool::FreeBlock* b = *link) {
        std::ptrdiff_t i = slab_of(b);
        if (i >= 0 && trim[static_cast<std::size_t>(i)]) {
          *link = b->next;
        } else {
          link = &b->next;
        }
      }
    }
    const std::size_t first_spare = slabs.spare.size();
    for (std::size_t i = 0; i < carved.size(); ++i) {
      if (!trim[i]) {
        if (carved[i].base != bump_slab) kept.push_back(carved[i]);
        continue;
      }
      slabs.spare.push_back(carved[i].base);
      if (carved[i].base == bump_slab) pool.bump = pool.bump_end = bump_slab = nullptr;
    }
    drop_pages(slabs.spare.begin() + static_cast<std::ptrdiff_t>(first_spare), slabs.spare.end());
    // The bump slab, if kept, stays last: refill records its carved bytes there.
    if (bump_slab != nullptr) kept.push_back(Slab{bump_slab, 0});
    slabs.carved = std::move(kept);
    slabs.floor_after_trim = slabs.carved.size();
    return ntrim;
  } catch (...) {  // no memory for the bookkeeping: keep everything, as before trimming existed
    return 0;
  }
#endif
}

}  // namespace asyncio::detail
