// Keeping the client's heap on huge pages (see heap.hpp).
#include "http/heap.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>

// (Not under a sanitizer: its allocator does not use glibc's heap.)
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ASYNCIO_HTTP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ASYNCIO_HTTP_SANITIZED 1
#endif
#endif

#if defined(__GLIBC__) && defined(__linux__) && !defined(ASYNCIO_HTTP_SANITIZED)
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
#define ASYNCIO_HTTP_HEAP_ADVICE 1
#endif

namespace asyncio::http::detail {

#ifdef ASYNCIO_HTTP_HEAP_ADVICE
namespace {

constexpr std::size_t kFewestConnections = 256;  // below: a default session (100), left alone
constexpr std::size_t kPerConnection = 16 * 1024;  // curl's easy handle, connection and buffers, and ours
constexpr std::size_t kMost = std::size_t{64} << 20;
constexpr std::size_t kBlock = 64 * 1024;  // under malloc's mmap threshold (128 KiB at least): from the heap
constexpr int kMostBlocks = 1024;  // kMost / kBlock: enough to use up any free top smaller than kMost

std::mutex g_mutex;
std::size_t g_pad = 0;  // the M_TOP_PAD set (the largest asked for)
/// The program break up to which the heap is advised; 0 until a session asks.
std::atomic<std::uintptr_t> g_advised_end{0};

std::uintptr_t program_break() noexcept { return reinterpret_cast<std::uintptr_t>(::sbrk(0)); }

/// Advises [from, to), from rounded down to its page, MADV_HUGEPAGE. Advised
/// ranges side by side become one mapping, so a 2 MiB page may straddle them.
void advise(std::uintptr_t from, std::uintptr_t to) noexcept {
  auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  from &= ~(page - 1);
  if (from < to) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE);
}

}  // namespace

void reserve_heap(std::size_t connections) noexcept {
  if (connections < kFewestConnections) return;
  std::size_t want = std::min(kMost, connections * kPerConnection);
  std::lock_guard<std::mutex> lock(g_mutex);
  if (want > g_pad) {
    // From now on the heap grows by `want` more than a request needs, and
    // keeps that much free at its top when it shrinks.
    if (::mallopt(M_TOP_PAD, static_cast<int>(want)) == 0) return;
    g_pad = want;
  }
  if (::mallinfo2().keepcost < want) {
    // Grow it now: take blocks from the free top until one does not fit,
    // which makes malloc grow the heap by that block and `want`; give them back.
    std::uintptr_t before = program_break();
    void* held[kMostBlocks];
    int n = 0;
    while (n < kMostBlocks && program_break() == before) {
      held[n] = ::malloc(kBlock);
      if (held[n] == nullptr) break;
      ++n;
    }
    for (int i = 0; i < n; ++i) ::free(held[i]);
  }
  // The free top of the heap: untouched but for its first page, advised
  // before curl's allocations touch it.
  std::uintptr_t end = program_break();
  advise(end - ::mallinfo2().keepcost, end);
  g_advised_end.store(end, std::memory_order_relaxed);
}

void follow_heap() noexcept {
  std::uintptr_t advised = g_advised_end.load(std::memory_order_relaxed);
  if (advised == 0 || program_break() == advised) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  std::uintptr_t end = program_break();
  advised = g_advised_end.load(std::memory_order_relaxed);
  if (end > advised) advise(advised, end);  // grown: advise the new part (shrunk: nothing to do)
  g_advised_end.store(end, std::memory_order_relaxed);
}

#else

void reserve_heap(std::size_t) noexcept {}
void follow_heap() noexcept {}

#endif

}  // namespace asyncio::http::detail
