#pragma once
/// \file detail/big_buffer.hpp
/// Memory for the loop's arrays that grow with the number of tasks or timers
/// (the timer heap, the ready queue, gather's per-child nodes).
///
/// On the bench machine (a virtual machine) the first touch of a 4 KiB page
/// costs 10-30 us: 3-7 ns per byte, more than everything else W3 does per
/// task. glibc's malloc serves an array of more than 128 KiB with mmap, in
/// 4 KiB pages. Here such an array is mapped on its own, whole 2 MiB pages,
/// aligned and advised MADV_HUGEPAGE (~0.1 ns per byte to fault), as the frame
/// pool's regions are; smaller ones come from malloc. Under AddressSanitizer
/// everything comes from malloc, so that overflows are still caught.
#include <cstddef>

namespace asyncio::detail {

/// The bytes big_allocate(bytes) really provides (a mapping is whole huge
/// pages): a growing array takes them all, and grows less often.
std::size_t big_capacity(std::size_t bytes) noexcept;
/// At least `bytes` bytes, aligned for any scalar type; std::bad_alloc when
/// the system has none. `bytes` > 0.
void* big_allocate(std::size_t bytes);
/// Frees what big_allocate(bytes) returned (the same `bytes`); null is ignored.
void big_deallocate(void* p, std::size_t bytes) noexcept;
/// `bytes` fresh bytes (not resident until touched) mapped on their own at a
/// 2 MiB boundary, advised MADV_HUGEPAGE when `huge` (then whole huge pages
/// back them once touched); std::bad_alloc when the system has none. What
/// big_allocate and the frame pool's regions are made of; munmap frees it.
void* map_aligned(std::size_t bytes, bool huge);

}  // namespace asyncio::detail
