// W3 timers on raw libuv: N uv_timer_t, each fires once after a pseudo-random
// 0-999 ms (the anchors' LCG) and adds its index. Prints
// `seconds=<float> result=<integer>`.
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

struct Timer {
  uv_timer_t handle;
  long long index;
};

long long g_total = 0;

int main(int argc, char** argv) {
  long long n = argc > 1 ? std::atoll(argv[1]) : 100'000;
  uv_loop_t* loop = uv_default_loop();
  auto t0 = std::chrono::steady_clock::now();
  std::vector<Timer> timers(static_cast<std::size_t>(n));
  unsigned seed = 12345;
  for (long long i = 0; i < n; ++i) {
    seed = (seed * 1103515245u + 12345u) & 0x7FFFFFFFu;
    Timer& t = timers[static_cast<std::size_t>(i)];
    t.index = i;
    uv_timer_init(loop, &t.handle);
    t.handle.data = &t;
    uv_timer_start(
        &t.handle, [](uv_timer_t* h) { g_total += static_cast<Timer*>(h->data)->index; }, (seed >> 8) % 1000, 0);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
  for (auto& t : timers) uv_close(reinterpret_cast<uv_handle_t*>(&t.handle), nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  std::printf("seconds=%.6f result=%lld\n", dt.count(), g_total);
}
