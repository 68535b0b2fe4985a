#pragma once
// Keeping the client's heap on huge pages (private header; heap.cpp).
//
// Why: a session with thousands of connections makes curl allocate ~15 KiB
// per connection (its easy handle, connection, buffers) and us a few more,
// almost all on glibc's main heap, which grows page by page: on this kind of
// VM each first touch of a 4 KiB page is a page fault of ~10 us, a tenth to a
// quarter of the client's CPU in a burst of new connections (10,000 requests
// 2,000 at once: ~7,800 faults). glibc offers the cure only as an
// environment variable read at start-up (GLIBC_TUNABLES=glibc.malloc.hugetlb=1:
// it advises the heap MADV_HUGEPAGE as it grows), which a library cannot set.
//
// What: when a session that may hold many connections is made, the heap is
// grown once by what those connections will need (glibc's M_TOP_PAD, then one
// allocation that does not fit in the free top of the heap), and the new part
// is advised MADV_HUGEPAGE before anything touches it; as curl opens sockets
// (one check of the program break per connection, no system call) any later
// growth is advised too. Transparent huge pages in `madvise` mode (the
// default of most distributions) then back the heap with 2 MiB pages: one
// fault per 2 MiB. Nothing else of malloc changes: no allocator of ours.
//
// Soundness for a library: glibc only (elsewhere these do nothing); M_TOP_PAD
// is glibc's documented knob for how much free memory the heap keeps at its
// top (it is never more than the largest session asked for, 64 MiB at most,
// and untouched pages cost no memory); MADV_HUGEPAGE is advice that changes
// no contents and is ignored where THP is off. The costs, said in client.hpp:
// the process keeps up to that much free heap for reuse instead of returning
// it to the system, its heap grows in 2 MiB pages, and (a side effect of any
// mallopt setting in glibc) malloc's adaptive mmap threshold stops adapting:
// blocks of 128 KiB or more are mapped and unmapped each time.
#include <cstddef>

namespace asyncio::http::detail {

/// Grows and advises the heap for a session of up to `connections`
/// connections (nothing below 256: a default session of 100 is left alone).
/// Thread-safe; a no-op when the heap already has that room.
void reserve_heap(std::size_t connections) noexcept;

/// Advises the part of the heap grown since the last call (one comparison
/// when it has not grown). Called when curl opens a socket.
void follow_heap() noexcept;

}  // namespace asyncio::http::detail
