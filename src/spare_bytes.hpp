#pragma once
// Spare byte buffers, a few per thread, so that an echo-like exchange
// allocates nothing per message (private to the library).
//
// A StreamReader hands its whole buffer to the reader (`read()` moves it out)
// and its next feed_data() would allocate a new one; the bytes usually come
// back to a transport as `write(std::string&&)` and, once the socket took them,
// would be freed. The transport parks such a string here instead
// (keep_spare_bytes) and a reader's feed_data() into an empty buffer takes one
// back (take_spare_bytes): allocations reused instead of a malloc/free pair per
// message. One loop iteration feeds many connections before their tasks run
// and write, so a single spare would not do: up to kSpareSlots are kept, each
// of at most kMaxSpareBytes, kMaxSpareTotal in all (glibc's own per-thread
// cache keeps 7 chunks per size).
//
// The slots are raw storage (a trivial thread_local: no initialisation check
// on each use); the strings in them are destroyed at thread exit by a cleanup
// registered on the first keep.
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

namespace asyncio::detail {

inline constexpr std::size_t kSpareSlots = 128;
inline constexpr std::size_t kMaxSpareBytes = 16 * 1024;
inline constexpr std::size_t kMaxSpareTotal = 256 * 1024;

struct SpareBytes {
  alignas(std::string) unsigned char raw[kSpareSlots][sizeof(std::string)];
  std::size_t count;  // slots [0, count) hold strings
  std::size_t bytes;  // their capacities
  bool cleanup_registered;
  std::string* slot(std::size_t i) noexcept { return reinterpret_cast<std::string*>(raw[i]); }
};
inline constinit thread_local SpareBytes t_spare_bytes{};

/// Registers the thread-exit cleanup of t_spare_bytes (once per thread).
void register_spare_bytes_cleanup() noexcept;

/// Keeps `s`'s allocation (its content is dropped) when there is room.
[[gnu::flatten]] inline void keep_spare_bytes(std::string& s) noexcept {
  std::size_t cap = s.capacity();
  SpareBytes& spare = t_spare_bytes;
  if (cap <= std::string().capacity() || cap > kMaxSpareBytes || spare.count == kSpareSlots ||
      spare.bytes + cap > kMaxSpareTotal) {
    return;
  }
  if (!spare.cleanup_registered) [[unlikely]] register_spare_bytes_cleanup();
  // A heap string moves by its pointer (`s` is left empty).
  std::construct_at(spare.slot(spare.count++), std::move(s))->clear();  // the allocation, not the bytes
  spare.bytes += cap;
}

/// Gives `buffer` a kept allocation when it is empty and has none.
[[gnu::flatten]] inline void take_spare_bytes(std::string& buffer) noexcept {
  SpareBytes& spare = t_spare_bytes;
  if (spare.count == 0 || !buffer.empty() || buffer.capacity() > std::string().capacity()) return;
  std::string* kept = spare.slot(--spare.count);
  spare.bytes -= kept->capacity();
  std::destroy_at(&buffer);  // empty, no allocation: re-made from the kept one
  std::construct_at(&buffer, std::move(*kept));
  std::destroy_at(kept);
}

}  // namespace asyncio::detail
