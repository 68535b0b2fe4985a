// What touching memory costs on this machine, to read W1's and W3's figures by:
// both touch memory in proportion to their tasks (W1 ~240 MB, W3 ~40 MB), and
// in a virtual machine the first touch of memory the host has taken back
// costs far more than the work done with it.
//
// Three measures, each the time to write one byte per 4 KiB page of MiB
// fresh anonymous bytes (mmap, 2 MiB-aligned), in ms per MiB:
//   fresh_huge   advised MADV_HUGEPAGE (as the frame pool's regions): the
//                first mapping of the process, pages as the kernel hands
//                them out (on this VM often pages the host must back anew);
//   reused_huge  the same again right after munmap: the kernel hands back the
//                huge pages just freed, which the host still backs;
//   small_pages  not advised: a page fault per 4 KiB (as malloc's memory).
//
// Usage: first_touch [MiB]   (default 256) prints one line,
// `fresh_huge_ms_per_mib=<f> reused_huge_ms_per_mib=<f> small_pages_ms_per_mib=<f>`.
// bench/compare prints it before W1 and W3.
//
//        first_touch --warm MiB   touches MiB fresh bytes once and exits, printing
// `warmed_mib=<n> ms_per_mib=<f>`: the pages go back to the kernel's free lists
// still backed by the host, so the program started next touches memory at the
// cost a machine without a hypervisor would charge. bench/compare runs it before
// each program it times (--cold turns that off), so that no implementation pays
// for the memory its predecessor in the run gave back.
#include <sys/mman.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr std::size_t kHuge = std::size_t{2} << 20;

/// ms per MiB to map `mib` MiB, touch each 4 KiB page once, and unmap.
double touch(std::size_t mib, bool huge) {
  const std::size_t bytes = mib << 20;
  void* p = ::mmap(nullptr, bytes + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::perror("mmap");
    std::exit(1);
  }
  auto* start = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1));
  if (huge) ::madvise(start, bytes, MADV_HUGEPAGE);
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < bytes; i += 4096) static_cast<volatile char*>(start)[i] = 1;
  const std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - t0;
  ::munmap(p, bytes + kHuge);
  return ms.count() / static_cast<double>(mib);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--warm") == 0) {
    const long warm = std::atol(argv[2]);
    if (warm < 2 || warm > 65536) {
      std::fprintf(stderr, "usage: first_touch --warm MiB   (2..65536)\n");
      return 2;
    }
    std::printf("warmed_mib=%ld ms_per_mib=%.3f\n", warm, touch(static_cast<std::size_t>(warm), true));
    return 0;
  }
  const long mib = argc > 1 ? std::atol(argv[1]) : 256;
  if (mib < 2 || mib > 65536) {
    std::fprintf(stderr, "usage: first_touch [MiB]   (2..65536, default 256)\n");
    return 2;
  }
  const auto n = static_cast<std::size_t>(mib);
  const double fresh = touch(n, true);
  const double reused = touch(n, true);
  const double small = touch(n, false);
  std::printf("fresh_huge_ms_per_mib=%.3f reused_huge_ms_per_mib=%.3f small_pages_ms_per_mib=%.3f\n", fresh, reused,
              small);
  return 0;
}
