#pragma once
/// \file detail/frame_pool.hpp
/// Per-thread free lists for coroutine frames and other small loop objects.
///
/// Coroutine frames, timer handles and heap futures are allocated and freed at
/// a high rate on the loop's thread. A size-class free list (16-byte classes up
/// to 1 KiB, carved from 64 KiB slabs) makes that a couple of loads and stores
/// instead of a trip through malloc, and costs no per-block header (this is what
/// keeps W1 near 150 bytes per task, see DESIGN.md). Blocks freed on another
/// thread go to that thread's lists. Under AddressSanitizer the pool is bypassed
/// so that use-after-free is still caught.
///
/// After a spike the pool gives the memory back: `pool_trim()` returns to the
/// system every slab whose blocks are all free on this thread (the loop calls
/// it when it closes, and when it is about to wait for I/O with the pool grown
/// by 4 MiB since the last trim). The hot paths are not involved.
#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define ASYNCIO_POOL_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASYNCIO_POOL_DISABLED 1
#endif
#endif

namespace asyncio::detail {

struct FramePool {
  static constexpr std::size_t kGranule = 16;
  static constexpr std::size_t kClasses = 64;  // up to 1024 bytes
  struct FreeBlock {
    FreeBlock* next;
  };
  FreeBlock* free[kClasses];
  char* bump;
  char* bump_end;

  void* refill(std::size_t cls);  // slow path: carve from a new slab (src/frame_pool.cpp)
};

inline constinit thread_local FramePool t_frame_pool{};
/// Slabs carved so far by all threads (for tests: a steady state carves none).
std::size_t pool_slab_count() noexcept;
/// Slabs of this thread that hold memory (carved and not trimmed since).
std::size_t pool_resident_slabs() noexcept;
/// Gives back the memory of every slab of this thread whose blocks are all on
/// this thread's free lists (their pages are dropped; the slab stays mapped,
/// to be carved again). Returns how many slabs. O(free blocks); no hot path.
std::size_t pool_trim() noexcept;
/// True when the slabs of this thread grew by 4 MiB since the last trim: a
/// trim may be worth its pass over the free lists (the loop asks when idle).
bool pool_trim_due() noexcept;
/// Blocks on this thread's free list of the size class that serves `size`
/// bytes (0 when the pool is bypassed). O(blocks); for tests: the class a
/// coroutine frame went back to tells its size.
std::size_t pool_free_blocks(std::size_t size) noexcept;
/// Coroutine frames alive on this thread (for tests: none may outlive the loop).
inline constinit thread_local std::int64_t t_live_frames = 0;

inline void* pool_allocate(std::size_t size) {
#ifndef ASYNCIO_POOL_DISABLED
  std::size_t cls = (size + FramePool::kGranule - 1) / FramePool::kGranule;
  if (cls < FramePool::kClasses) [[likely]] {
    FramePool& pool = t_frame_pool;
    if (FramePool::FreeBlock* b = pool.free[cls]) [[likely]] {
      pool.free[cls] = b->next;
      return b;
    }
    // A fresh block from the current slab, inline: a spike of tasks (a frame
    // and a task state each) carves two blocks per task.
    std::size_t bytes = cls * FramePool::kGranule;
    if (static_cast<std::size_t>(pool.bump_end - pool.bump) >= bytes) {
      void* p = pool.bump;
      pool.bump += bytes;
      return p;
    }
    return pool.refill(cls);
  }
#endif
  return ::operator new(size);
}

inline void pool_deallocate(void* p, [[maybe_unused]] std::size_t size) noexcept {
#ifndef ASYNCIO_POOL_DISABLED
  std::size_t cls = (size + FramePool::kGranule - 1) / FramePool::kGranule;
  if (cls < FramePool::kClasses) [[likely]] {
    auto* b = static_cast<FramePool::FreeBlock*>(p);
    FramePool& pool = t_frame_pool;
    b->next = pool.free[cls];
    pool.free[cls] = b;
    return;
  }
#endif
  ::operator delete(p);
}

/// Mix-in giving a class pooled operator new/delete.
struct Pooled {
  static void* operator new(std::size_t size) { return pool_allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { pool_deallocate(p, size); }
};

}  // namespace asyncio::detail
