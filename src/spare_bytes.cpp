// The thread-exit cleanup of the spare byte buffers (spare_bytes.hpp).
#include "spare_bytes.hpp"

namespace asyncio::detail {

namespace {

struct SpareBytesCleanup {
  ~SpareBytesCleanup() {
    SpareBytes& spare = t_spare_bytes;
    while (spare.count > 0) std::destroy_at(spare.slot(--spare.count));
    spare.bytes = 0;
    spare.cleanup_registered = false;
  }
};

}  // namespace

void register_spare_bytes_cleanup() noexcept {
  thread_local SpareBytesCleanup cleanup;  // its destructor runs at this thread's exit
  (void)cleanup;
  t_spare_bytes.cleanup_registered = true;
}

}  // namespace asyncio::detail
