// MpiPoolExecutor under `mpirun -np 3 --oversubscribe`: rank 0 runs these tests, ranks 1 and 2
// serve the calls from the top of main (process_pool_worker_main). Each ctest entry is one
// mpirun (cmake/mpi.cmake);
// MpiWorkerDeath.* runs in its own, with --enable-recovery, since the rank it kills is gone
// for good. Every test runs under a watchdog: a hang aborts the job (and fails it) instead of
// stalling CI; no test asserts a duration.
//
// The Python programs behind the expected behaviour are mpi4py.futures' and
// concurrent.futures' (the same as for ProcessPoolExecutor in tests/test_executors.cpp):
//   with MPIPoolExecutor() as pool:
//       assert pool.submit(add, 1, 2).result() == 3
//       assert list(pool.map(square, range(20), chunksize=3)) == [x * x for x in range(20)]
//       pool.submit(fail, "boom").result()   # raises ValueError('boom') in the caller
#include "asyncio/mpi/executor.hpp"
#include "asyncio/serialize_gmp.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <fmt/format.h>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "asyncio/runners.hpp"
#include "asyncio/tasks.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;

int add(int a, int b) { return a + b; }
ASYNCIO_REGISTER_PROCESS_FUNCTION(add);

long square(long x) { return x * x; }
ASYNCIO_REGISTER_PROCESS_FUNCTION(square);

/// The rank that ran the call: proves the work left rank 0.
int which_rank(int) { return asyncio::mpi::rank(); }
ASYNCIO_REGISTER_PROCESS_FUNCTION(which_rank);

std::string fail(std::string message) { throw std::invalid_argument(message); }
ASYNCIO_REGISTER_PROCESS_FUNCTION(fail);

int sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
ASYNCIO_REGISTER_PROCESS_FUNCTION(sleep_ms);

/// Returns the contents of `path` once it exists (the same node: rank 0 writes it).
std::string wait_for_file(std::string path) {
  for (;;) {
    std::ifstream f(path);
    std::string text;
    if (f && std::getline(f, text) && !text.empty()) return text;
    std::this_thread::sleep_for(1ms);
  }
}
ASYNCIO_REGISTER_PROCESS_FUNCTION(wait_for_file);

mpz_class power_of_two(int bits) { return mpz_class(1) << bits; }
ASYNCIO_REGISTER_PROCESS_FUNCTION(power_of_two);

/// Kills the rank that runs it (the "worker dies" case).
int die(int) {
  ::raise(SIGKILL);
  return 0;
}
ASYNCIO_REGISTER_PROCESS_FUNCTION(die);

int not_registered(int x) { return x; }

/// Aborts the whole job if a test is still running after `limit`: a hang fails the test.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::seconds limit = 60s)
      : thread_([this, limit] {
          std::unique_lock lock(mutex_);
          if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: %s hung\n",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
            std::_Exit(3);
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

TEST(MpiPoolExecutor, RunsCallsOnWorkerRanks) {
  Watchdog dog;
  ASSERT_EQ(asyncio::mpi::world_size(), 3);
  asyncio::MpiPoolExecutor pool;
  EXPECT_EQ(pool.max_workers(), 2u);
  EXPECT_EQ(pool.submit(add, 1, 2).result(), 3);
  // Two calls that overlap land on the two workers.
  auto a = pool.submit(sleep_ms, 200);
  auto b = pool.submit(sleep_ms, 200);
  EXPECT_EQ(a.result() + b.result(), 400);
  std::vector<int> ranks = pool.map(which_rank, std::vector<int>(6, 0));
  for (int r : ranks) EXPECT_TRUE(r == 1 || r == 2) << r;
}

TEST(MpiPoolExecutor, BigResultsComeBackWhole) {
  Watchdog dog;
  asyncio::MpiPoolExecutor pool;
  // 1 MiB of limbs: more than MPI sends eagerly, so the rendezvous path is used.
  auto f = pool.submit(power_of_two, 8 * 1024 * 1024);
  EXPECT_EQ(f.result(), mpz_class(1) << (8 * 1024 * 1024));
}

TEST(MpiPoolExecutor, MapKeepsInputOrderWithAndWithoutChunks) {
  Watchdog dog;
  asyncio::MpiPoolExecutor pool;
  std::vector<long> xs;
  for (long i = 0; i < 20; ++i) xs.push_back(i);
  std::vector<long> expected;
  for (long x : xs) expected.push_back(x * x);
  std::vector<long> one_by_one = pool.map(square, xs);
  EXPECT_EQ(one_by_one, expected);
  for (std::size_t chunk : {1u, 3u, 7u, 20u, 50u}) {
    std::vector<long> chunked = pool.map(chunk, square, xs);
    EXPECT_EQ(chunked, expected) << "chunksize " << chunk;
  }
  std::vector<int> sums = pool.map(add, std::vector<int>{1, 2, 3}, std::vector<int>{10, 20, 30, 40});
  EXPECT_EQ(sums, (std::vector<int>{11, 22, 33}));
  EXPECT_THROW(pool.map(0, square, xs), std::invalid_argument);
}

TEST(MpiPoolExecutor, ExceptionsComeBackWithTheirTypeAndMessage) {
  Watchdog dog;
  asyncio::MpiPoolExecutor pool;
  try {
    pool.submit(fail, std::string("boom")).result();
    FAIL() << "no exception";
  } catch (const asyncio::RemoteError& e) {
    EXPECT_EQ(e.type_name(), "std::invalid_argument");
    EXPECT_EQ(e.message(), "boom");
    EXPECT_STREQ(e.what(), "std::invalid_argument: boom");
  }
  // In a chunk, a failing call fails only its own position.
  std::vector<std::string> words{"a", "b"};
  auto results = pool.map(2, fail, words);
  auto it = results.begin();
  try {
    (void)*it;
    FAIL() << "no exception";
  } catch (const asyncio::RemoteError& e) {
    EXPECT_EQ(e.message(), "a");
  }
  EXPECT_THROW(pool.submit(not_registered, 1), std::invalid_argument);
  // The pool still works.
  EXPECT_EQ(pool.submit(add, 2, 2).result(), 4);
}

asyncio::Coro<void> tick_then_release(std::vector<std::string>* log, std::string path) {
  for (int i = 0; i < 3; ++i) {
    co_await asyncio::sleep(0s);  // yields to the loop (no timer: the point is the loop runs)
    log->push_back("tick");
  }
  std::ofstream(path) << "released by the loop";
}

asyncio::Coro<std::vector<std::string>> loop_and_worker(asyncio::MpiPoolExecutor* pool, std::string path) {
  std::vector<std::string> log;
  auto& loop = asyncio::get_running_loop();
  // The worker's call cannot return before the loop has run its task: a blocked loop would
  // never write the file (and the watchdog would fire).
  auto call = loop.run_in_executor(*pool, wait_for_file, path);
  co_await asyncio::create_task(tick_then_release(&log, path));
  log.push_back(co_await call);
  auto sum = co_await loop.run_in_executor(pool, add, 20, 22);
  log.push_back("sum " + std::to_string(sum));
  co_return log;
}

TEST(MpiPoolExecutor, RunInExecutorNeverBlocksTheLoop) {
  Watchdog dog;
  asyncio::MpiPoolExecutor pool;
  const std::string path = fmt::format("/tmp/asyncio-mpi-test-{}", ::getpid());
  std::remove(path.c_str());
  auto log = asyncio::run(loop_and_worker(&pool, path));
  std::remove(path.c_str());
  EXPECT_EQ(log, (std::vector<std::string>{"tick", "tick", "tick", "released by the loop", "sum 42"}));
  test::expect_no_frames();
}

TEST(MpiPoolExecutor, ShutdownWaitsForQueuedWork) {
  Watchdog dog;
  std::vector<asyncio::concurrent::Future<int>> futures;
  {
    asyncio::MpiPoolExecutor pool(1);
    for (int i = 0; i < 5; ++i) futures.push_back(pool.submit(sleep_ms, 20));
    pool.shutdown(true);
    for (auto& f : futures) EXPECT_TRUE(f.done());
    EXPECT_THROW(pool.submit(add, 1, 1), asyncio::RuntimeError);
    std::ostringstream repr;
    repr << pool;
    EXPECT_EQ(repr.str(), "<MpiPoolExecutor max_workers=1 running=0 queued=0 state=shutdown>");
  }
  for (auto& f : futures) EXPECT_EQ(f.result(), 20);
}

TEST(MpiPoolExecutor, ShutdownWithCancelFuturesCancelsCallsNotYetSent) {
  Watchdog dog;
  asyncio::MpiPoolExecutor pool(1);
  auto running = pool.submit(sleep_ms, 300);
  // Wait until the first call is out on the worker, so the rest stay queued.
  while (!running.running()) std::this_thread::sleep_for(1ms);
  std::vector<asyncio::concurrent::Future<int>> queued;
  for (int i = 0; i < 4; ++i) queued.push_back(pool.submit(add, i, i));
  pool.shutdown(true, true);
  EXPECT_EQ(running.result(), 300);
  for (auto& f : queued) {
    EXPECT_TRUE(f.cancelled());
    EXPECT_THROW(f.result(), asyncio::concurrent::CancelledError);
  }
}

TEST(MpiPoolExecutor, OneAtATimeAndOnlyOnRankZero) {
  Watchdog dog;
  asyncio::MpiPoolExecutor pool;
  EXPECT_THROW(asyncio::MpiPoolExecutor second, asyncio::RuntimeError);
  pool.shutdown();
  EXPECT_EQ(asyncio::mpi::rank(), 0);
}

// ---- its own mpirun, with --enable-recovery: the killed rank stays dead ------------------------

TEST(MpiWorkerDeath, PendingFuturesGetBrokenExecutorAndNothingHangs) {
  Watchdog dog;
  asyncio::MpiPoolExecutor pool(1);  // rank 1 only: the queued calls wait behind the dying one
  auto slow = pool.submit(sleep_ms, 100);
  auto dying = pool.submit(die, 0);
  std::vector<asyncio::concurrent::Future<int>> queued;
  for (int i = 0; i < 3; ++i) queued.push_back(pool.submit(add, i, 1));
  EXPECT_EQ(slow.result(), 100);
  try {
    dying.result();
    FAIL() << "no exception";
  } catch (const asyncio::BrokenMpiPool& e) {
    EXPECT_NE(std::string(e.what()).find("terminated abruptly"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("MPI rank 1 ended"), std::string::npos) << e.what();
  }
  for (auto& f : queued) EXPECT_THROW(f.result(), asyncio::BrokenExecutor);
  EXPECT_THROW(pool.submit(add, 1, 2), asyncio::BrokenMpiPool);
  std::ostringstream repr;
  repr << pool;
  EXPECT_NE(repr.str().find("state=broken"), std::string::npos) << repr.str();
  pool.shutdown();
}

TEST(MpiWorkerDeath, AwaitingTaskGetsBrokenExecutor) {
  Watchdog dog;
  // After the previous test only rank 2 is alive, and a new pool uses only live ranks.
  auto main = []() -> asyncio::Coro<std::string> {
    asyncio::MpiPoolExecutor pool;
    auto& loop = asyncio::get_running_loop();
    try {
      co_await loop.run_in_executor(pool, die, 0);
    } catch (const asyncio::BrokenExecutor&) {
      co_return "BrokenExecutor";
    }
    co_return "no exception";
  };
  EXPECT_EQ(asyncio::run(main()), "BrokenExecutor");
  test::expect_no_frames();
}

}  // namespace

// Ranks 1 and 2 (and the process pools' workers) serve from the top of main, before
// GoogleTest reads the arguments.
int main(int argc, char** argv) {
  asyncio::process_pool_worker_main(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
