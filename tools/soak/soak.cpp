// asyncio-soak: the loop under a mixed load on the real clock (`make soak`).
//
// For DURATION seconds (default 60) it runs, all at once: batches of short
// tasks (some cancelled), timers (half cancelled), timeouts that expire,
// producer/consumer pairs on bounded queues, threads posting
// call_soon_threadsafe, and executor jobs (to_thread). Two checks, after a
// warm-up of a sixth of the run:
//   - RSS stays flat: less than 5% growth from the end of the warm-up to the end;
//   - the loop never stalls: a 10 ms ticker never wakes more than 100 ms late.
// Prints its figures and exits 1 when a check fails. Not part of `make test`.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "asyncio/asyncio.hpp"

using namespace std::chrono_literals;

namespace {

long rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

struct Stats {
  long tasks = 0, cancelled = 0, timers = 0, timeouts = 0, items = 0, threadsafe = 0, jobs = 0;
  double max_late_s = 0;        // after warm-up
  double max_late_warm_s = 0;   // during warm-up (reported, not checked)
  long rss_warm_kib = 0, rss_end_kib = 0, rss_max_kib = 0;
};

asyncio::Coro<> short_task(int ms) { co_await asyncio::sleep(std::chrono::milliseconds(ms)); }

asyncio::Coro<> spawner(Stats& st, const bool& stop) {
  std::mt19937 rng(1);
  while (!stop) {
    std::vector<asyncio::Task<void>> batch;
    for (int i = 0; i < 200; ++i) batch.push_back(asyncio::create_task(short_task(static_cast<int>(rng() % 6))));
    for (int i = 0; i < 200; i += 4) batch[i].cancel();
    auto results = co_await asyncio::gather(asyncio::return_exceptions, std::move(batch));
    for (auto& r : results) {
      if (r.has_exception()) ++st.cancelled;
      ++st.tasks;
    }
  }
}

asyncio::Coro<> timer_storm(Stats& st, const bool& stop) {
  auto& loop = asyncio::get_running_loop();
  std::mt19937 rng(2);
  while (!stop) {
    std::vector<asyncio::TimerHandle> hs;
    for (int i = 0; i < 500; ++i) {
      auto payload = std::make_shared<std::vector<char>>(64);
      hs.push_back(loop.call_later(std::chrono::microseconds(rng() % 20'000), [&st, payload] { ++st.timers; }));
    }
    for (int i = 0; i < 500; i += 2) hs[i].cancel();
    // Far timers cancelled at once: they must not pile up (defect 10).
    for (int i = 0; i < 200; ++i) loop.call_later(1h, [] {}).cancel();
    co_await asyncio::sleep(10ms);
  }
}

asyncio::Coro<> timeouts(Stats& st, const bool& stop) {
  while (!stop) {
    try {
      co_await asyncio::wait_for(asyncio::sleep(5ms), 0.002);
    } catch (const asyncio::TimeoutError&) {
      ++st.timeouts;
    }
    try {
      co_await asyncio::timeout(1ms, asyncio::sleep(1h));
    } catch (const asyncio::TimeoutError&) {
      ++st.timeouts;
    }
  }
}

asyncio::Coro<> queue_pair(Stats& st, const bool& stop) {
  asyncio::Queue<std::string> q(10);
  auto consumer = asyncio::create_task([](asyncio::Queue<std::string>& q, Stats& st) -> asyncio::Coro<> {
    for (;;) {
      try {
        auto item = co_await asyncio::wait_for(q.get(), 0.05);
        if (item.empty()) co_return;
        ++st.items;
      } catch (const asyncio::TimeoutError&) {
      }
    }
  }(q, st));
  int n = 0;
  while (!stop) {
    co_await q.put(fmt::format("item {}", n++));
    if (n % 100 == 0) co_await asyncio::sleep(1ms);
  }
  co_await q.put(std::string());
  co_await consumer;
}

asyncio::Coro<> executor_jobs(Stats& st, const bool& stop) {
  while (!stop) {
    std::vector<asyncio::Task<long>> jobs;
    for (int i = 0; i < 8; ++i) {
      jobs.push_back(asyncio::create_task(asyncio::to_thread([i] {
        long s = 0;
        for (long k = 0; k < 20'000; ++k) s += k % (i + 2);
        return s;
      })));
    }
    for (auto& j : jobs) {
      co_await j;
      ++st.jobs;
    }
  }
}

asyncio::Coro<> ticker(Stats& st, const bool& stop, const bool& warm) {
  auto& loop = asyncio::get_running_loop();
  while (!stop) {
    double t0 = loop.time();
    co_await asyncio::sleep(10ms);
    double late = loop.time() - t0 - 0.010;
    (warm ? st.max_late_s : st.max_late_warm_s) = std::max(warm ? st.max_late_s : st.max_late_warm_s, late);
  }
}

asyncio::Coro<> soak(Stats& st, double duration) {
  auto& loop = asyncio::get_running_loop();
  bool stop = false, warm = false;
  std::atomic<bool> threads_stop{false};
  std::atomic<long> posted{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < 2; ++t) {
    posters.emplace_back([&] {
      while (!threads_stop.load()) {
        loop.call_soon_threadsafe([&st] { ++st.threadsafe; });
        posted.fetch_add(1);
        std::this_thread::sleep_for(50us);
      }
    });
  }
  std::vector<asyncio::Task<void>> load;
  load.push_back(asyncio::create_task(spawner(st, stop)));
  load.push_back(asyncio::create_task(timer_storm(st, stop)));
  load.push_back(asyncio::create_task(timeouts(st, stop)));
  load.push_back(asyncio::create_task(queue_pair(st, stop)));
  load.push_back(asyncio::create_task(queue_pair(st, stop)));
  load.push_back(asyncio::create_task(executor_jobs(st, stop)));
  load.push_back(asyncio::create_task(ticker(st, stop, warm)));

  double start = loop.time(), warm_up = duration / 6;
  for (int s = 1; loop.time() - start < duration; ++s) {
    co_await asyncio::sleep(1s);
    long rss = rss_kib();
    st.rss_max_kib = std::max(st.rss_max_kib, rss);
    if (!warm && loop.time() - start >= warm_up) {
      warm = true;
      st.rss_warm_kib = rss;
    }
    std::fprintf(stderr, "\r%3d s  rss %ld KiB  tasks %ld  timers %ld  items %ld  jobs %ld  threadsafe %ld", s, rss,
                 st.tasks, st.timers, st.items, st.jobs, st.threadsafe);
  }
  std::fprintf(stderr, "\n");
  stop = true;
  threads_stop = true;
  for (auto& t : posters) t.join();
  for (auto& t : load) co_await t;
  while (st.threadsafe < posted.load()) co_await asyncio::sleep(1ms);
  st.rss_end_kib = rss_kib();
  st.rss_max_kib = std::max(st.rss_max_kib, st.rss_end_kib);
}

/// A positive, finite number of seconds, the whole argument ("10", "2.5").
bool parse_seconds(const char* arg, double& out) {
  char* end = nullptr;
  double v = std::strtod(arg, &end);
  if (end == arg || *end != '\0' || !(v > 0) || v > 1e6) return false;
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  double duration = 60.0;
  if (argc > 2 || (argc == 2 && !parse_seconds(argv[1], duration))) {
    std::fprintf(stderr, "usage: asyncio-soak [SECONDS]   (a positive number of seconds, default 60)\n");
    return 2;
  }
  Stats st;
  // The watchdog: a hang is a failure, not a stuck `make soak`.
  std::thread([duration] {
    std::this_thread::sleep_for(std::chrono::duration<double>(duration * 2 + 60));
    std::fprintf(stderr, "soak: still running after %.0f s: the loop hangs\n", duration * 2 + 60);
    std::_Exit(2);
  }).detach();
  asyncio::run(soak(st, duration));
  double growth = st.rss_warm_kib > 0 ? 100.0 * static_cast<double>(st.rss_end_kib - st.rss_warm_kib) /
                                            static_cast<double>(st.rss_warm_kib)
                                      : 0.0;
  bool rss_ok = growth < 5.0;
  bool stall_ok = st.max_late_s < 0.100;
  fmt::print("soak: {:.0f} s on the real clock\n", duration);
  fmt::print("  tasks {} ({} cancelled), timers fired {}, timeouts {}, queue items {}, executor jobs {}, "
             "thread-safe calls {}\n",
             st.tasks, st.cancelled, st.timers, st.timeouts, st.items, st.jobs, st.threadsafe);
  fmt::print("  RSS after warm-up {} KiB, at the end {} KiB, peak {} KiB: growth {:+.2f}% (limit 5%) {}\n",
             st.rss_warm_kib, st.rss_end_kib, st.rss_max_kib, growth, rss_ok ? "ok" : "FAILED");
  fmt::print("  longest stall of the 10 ms ticker after warm-up {:.1f} ms (limit 100 ms) {}; during warm-up {:.1f} ms\n",
             st.max_late_s * 1e3, stall_ok ? "ok" : "FAILED", st.max_late_warm_s * 1e3);
  return rss_ok && stall_ok ? 0 : 1;
}
