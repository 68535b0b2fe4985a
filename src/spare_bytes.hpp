#pragma once
// Spare byte buffers, a few per thread, so that an echo-like exchange
// allocates nothing per message (private to the library).
//
// A StreamReader hands its whole buffer to the reader (`read()` swaps it out)
// and its next feed_data() would allocate a new one; the bytes usually come
// back to a transport as `write(std::string&&)` and, once the socket took them,
// would be freed. The transport parks such a string here instead
// (keep_spare_bytes) and a reader's feed_data() into an empty buffer takes one
// back (take_spare_bytes): allocations reused instead of a malloc/free pair per
// message. One loop iteration feeds many connections before their tasks run
// and write, so a single spare would not do: up to kSpareSlots are kept, each
// of at most kMaxSpareBytes, kMaxSpareTotal in all (glibc's own per-thread
// cache keeps 7 chunks per size).
#include <array>
#include <cstddef>
#include <string>
#include <utility>

namespace asyncio::detail {

inline constexpr std::size_t kSpareSlots = 128;
inline constexpr std::size_t kMaxSpareBytes = 16 * 1024;
inline constexpr std::size_t kMaxSpareTotal = 256 * 1024;

struct SpareBytes {
  std::array<std::string, kSpareSlots> slots;
  std::size_t count = 0;
  std::size_t bytes = 0;  // the capacities held
};
inline thread_local SpareBytes t_spare_bytes;

/// Keeps `s`'s allocation (its content is dropped) when there is room.
inline void keep_spare_bytes(std::string& s) noexcept {
  std::size_t cap = s.capacity();
  SpareBytes& spare = t_spare_bytes;
  if (cap <= std::string().capacity() || cap > kMaxSpareBytes || spare.count == kSpareSlots ||
      spare.bytes + cap > kMaxSpareTotal) {
    return;
  }
  // Moves, not swaps: a heap string moves by its pointer, and leaves an empty one.
  spare.slots[spare.count++] = std::move(s);
  s.clear();
  spare.bytes += cap;
}

/// Gives `buffer` a kept allocation when it is empty and has none.
inline void take_spare_bytes(std::string& buffer) noexcept {
  SpareBytes& spare = t_spare_bytes;
  if (spare.count == 0 || !buffer.empty() || buffer.capacity() > std::string().capacity()) return;
  buffer = std::move(spare.slots[--spare.count]);
  buffer.clear();
  spare.bytes -= buffer.capacity();
}

}  // namespace asyncio::detail
