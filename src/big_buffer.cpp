// Big arrays on huge pages (detail/big_buffer.hpp).
#include "asyncio/detail/big_buffer.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <new>

#include "asyncio/detail/frame_pool.hpp"  // ASYNCIO_POOL_DISABLED (sanitizers)

namespace asyncio::detail {
namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
// Below this, malloc (its arenas, 4 KiB pages, often recycled): a huge page
// for a small array would hold 2 MiB for it. From it on, glibc would mmap
// fresh 4 KiB pages.
constexpr std::size_t kBigThreshold = std::size_t{128} << 10;

constexpr std::size_t mapped_size(std::size_t bytes) noexcept { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

#ifndef ASYNCIO_POOL_DISABLED
constexpr bool kMap = true;
#else
constexpr bool kMap = false;
#endif
}  // namespace

std::size_t big_capacity(std::size_t bytes) noexcept {
  return !kMap || bytes < kBigThreshold ? bytes : mapped_size(bytes);
}

void* big_allocate(std::size_t bytes) {
  if (!kMap || bytes < kBigThreshold) {
    void* p = std::malloc(bytes);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  return map_aligned(mapped_size(bytes), true);
}

void* map_aligned(std::size_t bytes, bool huge) {
  // Map one huge page more than needed and cut the unaligned head and the tail.
  const std::size_t len = bytes + kHugePage;
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  auto start = reinterpret_cast<std::uintptr_t>(p);
  std::uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) ::munmap(p, aligned - start);
  std::uintptr_t end = aligned + bytes;
  if (start + len > end) ::munmap(reinterpret_cast<void*>(end), start + len - end);
  if (huge) ::madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);  // a no-op where THP is "never"
  return reinterpret_cast<void*>(aligned);
}

void big_deallocate(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  if (!kMap || bytes < kBigThreshold) {
    std::free(p);
    return;
  }
  ::munmap(p, mapped_size(bytes));
}

}  // namespace asyncio::detail
