#pragma once
/// \file detail/frame_pool.hpp
/// Per-thread free lists for coroutine frames and other small loop objects.
///
/// Coroutine frames, timer handles and heap futures are allocated and freed at
/// a high rate on the loop's thread. A size-class free list (8-byte classes up
/// to 1 KiB, carved from 64 KiB slabs) makes that a couple of loads and stores
/// instead of a trip through malloc, and costs no per-block header (a W1 task,
/// frame and task state, takes 120 bytes of it: bench/README.md). Blocks freed on another
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
  /// Size classes are 8 bytes apart; every block of an even class (a multiple
  /// of 16 bytes) is 16-aligned, since slabs are carved 16 bytes at a time.
  /// Coroutine frames round up to even classes (a frame may hold a 16-aligned
  /// local); objects known to need no more than 8 (PooledCompact) use the odd
  /// classes too: an object of 104 bytes takes 104, not 112.
  static constexpr std::size_t kGranule = 8;
  /// Coroutine frames' classes (and Pooled's) are this many bytes apart.
  static constexpr std::size_t kFrameGranule = 16;
  static constexpr std::size_t kClasses = 128;  // up to 1016 bytes
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
/// Blocks on this thread's free list of the size class that serves a
/// coroutine frame of `size` bytes (0 when the pool is bypassed). O(blocks);
/// for tests: the class a coroutine frame went back to tells its size.
std::size_t pool_free_blocks(std::size_t size) noexcept;
/// Coroutine frames alive on this thread (for tests: none may outlive the loop).
inline constinit thread_local std::int64_t t_live_frames = 0;

/// The class of a block of `size` bytes aligned to 16 (a frame, Pooled).
constexpr std::size_t pool_class(std::size_t size) noexcept {
  return (size + FramePool::kFrameGranule - 1) / FramePool::kFrameGranule * 2;
}
/// The class of a block of `size` bytes aligned to 8 (PooledCompact).
constexpr std::size_t pool_class_compact(std::size_t size) noexcept {
  return (size + FramePool::kGranule - 1) / FramePool::kGranule;
}

/// A block of class `cls` (< kClasses): from its free list, else carved.
inline void* pool_allocate_class(std::size_t cls) {
  FramePool& pool = t_frame_pool;
  if (FramePool::FreeBlock* b = pool.free[cls]) [[likely]] {
    pool.free[cls] = b->next;
    return b;
  }
  // A fresh block from the current slab, inline: a spike of tasks (a frame
  // and a task state each) carves two blocks per task. The bump pointer stays
  // 16-aligned: an odd class is carved two blocks at a time, the second going
  // to its free list (empty, or we would not be here).
  const std::size_t bytes = cls * FramePool::kGranule;
  const std::size_t carve = (cls & 1) != 0 ? 2 * bytes : bytes;
  if (static_cast<std::size_t>(pool.bump_end - pool.bump) >= carve) [[likely]] {
    char* p = pool.bump;
    pool.bump += carve;
    if ((cls & 1) != 0) {
      auto* second = reinterpret_cast<FramePool::FreeBlock*>(p + bytes);
      second->next = nullptr;
      pool.free[cls] = second;
    }
    return p;
  }
  return pool.refill(cls);
}

inline void pool_deallocate_class(void* p, std::size_t cls) noexcept {
  auto* b = static_cast<FramePool::FreeBlock*>(p);
  FramePool& pool = t_frame_pool;
  b->next = pool.free[cls];
  pool.free[cls] = b;
}

/// A block of class `cls` for `size` bytes: from the pool, or from operator
/// new when the class is too large (or the pool is bypassed).
inline void* pool_allocate_in(std::size_t cls, std::size_t size) {
#ifndef ASYNCIO_POOL_DISABLED
  if (cls < FramePool::kClasses) [[likely]] return pool_allocate_class(cls);
#endif
  (void)cls;
  return ::operator new(size);
}
inline void pool_deallocate_in(void* p, std::size_t cls) noexcept {
#ifndef ASYNCIO_POOL_DISABLED
  if (cls < FramePool::kClasses) [[likely]] {
    pool_deallocate_class(p, cls);
    return;
  }
#endif
  (void)cls;
  ::operator delete(p);
}

/// `size` bytes aligned to 16 (a coroutine frame).
inline void* pool_allocate(std::size_t size) { return pool_allocate_in(pool_class(size), size); }
inline void pool_deallocate(void* p, std::size_t size) noexcept { pool_deallocate_in(p, pool_class(size)); }
/// `size` bytes aligned to 8.
inline void* pool_allocate_compact(std::size_t size) { return pool_allocate_in(pool_class_compact(size), size); }
inline void pool_deallocate_compact(void* p, std::size_t size) noexcept {
  pool_deallocate_in(p, pool_class_compact(size));
}

/// Mix-in giving a class pooled operator new/delete (16-aligned blocks).
struct Pooled {
  static void* operator new(std::size_t size) { return pool_allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { pool_deallocate(p, size); }
};

/// The same for a class `D` aligned to 8 bytes or less, whose objects are
/// all of type `D` (or of types no more aligned): blocks 8 bytes apart.
template <class D>
struct PooledCompact {
  static void* operator new(std::size_t size) {
    static_assert(alignof(D) <= FramePool::kGranule, "PooledCompact is for classes aligned to 8 bytes or less");
    return pool_allocate_compact(size);
  }
  static void operator delete(void* p, std::size_t size) noexcept { pool_deallocate_compact(p, size); }
};

}  // namespace asyncio::detail
