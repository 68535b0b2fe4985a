// Tests for asyncio/executors.hpp: concurrent futures, ThreadPoolExecutor, ProcessPoolExecutor.
// No test asserts a duration; waits that could hang are bounded and reported as failures.
#include "asyncio/executors.hpp"
#include "asyncio/serialize_gmp.hpp"

#include <gtest/gtest.h>

#include "asyncio/runners.hpp"
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <latch>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sanitized.hpp"

using namespace std::chrono_literals;
using asyncio::ProcessPoolExecutor;
using asyncio::ThreadPoolExecutor;
namespace concurrent = asyncio::concurrent;

// ---- functions the process pool runs (registered at namespace scope) -----------------------

int add(int a, int b) { return a + b; }
ASYNCIO_REGISTER_PROCESS_FUNCTION(add);

pid_t current_pid() { return ::getpid(); }
ASYNCIO_REGISTER_PROCESS_FUNCTION(current_pid);

std::string describe(const std::string& name, std::vector<int> values) {
  std::ostringstream os;
  os << name << ':';
  for (int v : values) os << ' ' << v;
  return os.str();
}
ASYNCIO_REGISTER_PROCESS_FUNCTION(describe);

mpz_class cube(const mpz_class& x) { return x * x * x; }
ASYNCIO_REGISTER_PROCESS_FUNCTION(cube);

int fail_with(std::string message) { throw std::invalid_argument(message); }
ASYNCIO_REGISTER_PROCESS_FUNCTION(fail_with);

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
ASYNCIO_REGISTER_PROCESS_FUNCTION(sleep_ms);

int exit_now(int code) { ::_exit(code); }
ASYNCIO_REGISTER_PROCESS_FUNCTION(exit_now);

int not_registered(int x) { return x; }

// A global built by a dynamic initializer in this file: workers must see it constructed.
const std::vector<std::string> greetings{"hello", "bonjour", "hallo"};
std::string greeting(int i) { return greetings.at(static_cast<std::size_t>(i)); }
ASYNCIO_REGISTER_PROCESS_FUNCTION(greeting);

// ---- helpers -----------------------------------------------------------------------------------

namespace {

/// Polls `condition` for up to 30 s; false if it never held (the test then fails, not hangs).
template <class F>
bool eventually(F condition) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::size_t thread_count() {
  // Note: a joined thread leaves /proc/self/task a moment after pthread_join returns (the
  // kernel clears the tid futex before it releases the task), so compare with eventually().
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

/// The thread count with no pool alive. A first thread is started and joined before counting,
/// so that runtime helpers started lazily with the first thread (ThreadSanitizer's background
/// thread) are already there.
std::size_t baseline_thread_count() {
  pid_t tid = 0;
  std::thread([&] { tid = ::gettid(); }).join();
  const auto task = std::filesystem::path("/proc/self/task") / std::to_string(tid);
  eventually([&] { return !std::filesystem::exists(task); });
  return thread_count();
}

/// Live (not yet reaped) children of this process.
std::vector<pid_t> child_processes() {
  std::vector<pid_t> children;
  const pid_t self = ::getpid();
  for (auto& e : std::filesystem::directory_iterator("/proc")) {
    const auto name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so parse after the last ')'.
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t ppid;
    rest >> state >> ppid;
    if (ppid == self) children.push_back(std::stoi(name));
  }
  return children;
}

template <class T>
std::string repr(const T& x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

}  // namespace

// ---- concurrent::Future --------------------------------------------------------------------------

TEST(ConcurrentFuture, ResultReturnsTheValueSetByAnotherThread) {
  concurrent::Future<int> f;
  std::thread t([f]() mutable {
    std::this_thread::sleep_for(10ms);
    f.set_result(42);
  });
  EXPECT_EQ(f.result(), 42);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.exception(), nullptr);
  t.join();
}

TEST(ConcurrentFuture, ResultWithATimeoutThrowsTimeoutErrorWhileStillPending) {
  concurrent::Future<int> f;
  EXPECT_THROW(f.result(1ms), concurrent::TimeoutError);
  EXPECT_THROW(f.exception(0s), concurrent::TimeoutError);
  f.set_result(1);
  EXPECT_EQ(f.result(0s), 1);
}

TEST(ConcurrentFuture, CancelSucceedsBeforeRunningAndFailsOnceRunning) {
  concurrent::Future<int> pending;
  EXPECT_TRUE(pending.cancel());
  EXPECT_TRUE(pending.cancel());  // idempotent
  EXPECT_TRUE(pending.cancelled());
  EXPECT_TRUE(pending.done());
  EXPECT_THROW(pending.result(), concurrent::CancelledError);
  EXPECT_THROW(pending.exception(), concurrent::CancelledError);
  EXPECT_FALSE(pending.set_running_or_notify_cancel());

  concurrent::Future<int> running;
  EXPECT_TRUE(running.set_running_or_notify_cancel());
  EXPECT_TRUE(running.running());
  EXPECT_FALSE(running.cancel());
  EXPECT_FALSE(running.cancelled());
  running.set_result(7);
  EXPECT_FALSE(running.cancel());
  EXPECT_EQ(running.result(), 7);
}

TEST(ConcurrentFuture, SettingADoneFutureThrowsInvalidStateError) {
  concurrent::Future<int> f;
  f.set_result(1);
  EXPECT_THROW(f.set_result(2), concurrent::InvalidStateError);
  EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))),
               concurrent::InvalidStateError);
  concurrent::Future<int> c;
  c.cancel();
  EXPECT_THROW(c.set_result(2), concurrent::InvalidStateError);
  EXPECT_EQ(f.result(), 1);
}

TEST(ConcurrentFuture, ResultRethrowsTheStoredExceptionAndExceptionReturnsIt) {
  concurrent::Future<std::string> f;
  f.set_exception(std::make_exception_ptr(std::out_of_range("too far")));
  EXPECT_THROW(f.result(), std::out_of_range);
  auto e = f.exception();
  ASSERT_NE(e, nullptr);
  try {
    std::rethrow_exception(e);
  } catch (const std::out_of_range& ex) {
    EXPECT_STREQ(ex.what(), "too far");
  }
}

TEST(ConcurrentFuture, DoneCallbacksRunOnceInOrderAndAtOnceWhenAlreadyDone) {
  concurrent::Future<int> f;
  std::vector<std::string> calls;
  f.add_done_callback([&](const concurrent::Future<int>& g) {
    calls.push_back("first " + std::to_string(g.result()));
  });
  f.add_done_callback([&](const auto&) { calls.push_back("second"); });
  EXPECT_TRUE(calls.empty());
  f.set_result(5);
  EXPECT_EQ(calls, (std::vector<std::string>{"first 5", "second"}));
  f.add_done_callback([&](const auto& g) { calls.push_back(g.done() ? "late" : "?"); });
  EXPECT_EQ(calls, (std::vector<std::string>{"first 5", "second", "late"}));
}

TEST(ConcurrentFuture, CancellingRunsTheDoneCallbacks) {
  concurrent::Future<int> f;
  bool saw_cancelled = false;
  f.add_done_callback([&](const auto& g) { saw_cancelled = g.cancelled(); });
  f.cancel();
  EXPECT_TRUE(saw_cancelled);
}

TEST(ConcurrentFuture, ACallbackThatThrowsIsReportedAndTheNextOneStillRuns) {
  concurrent::Future<int> f;
  bool second = false;
  f.add_done_callback([](const auto&) { throw std::runtime_error("callback failed"); });
  f.add_done_callback([&](const auto&) { second = true; });
  testing::internal::CaptureStderr();
  f.set_result(1);
  auto err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(second);
  EXPECT_NE(err.find("exception calling callback for <Future at"), std::string::npos) << err;
  EXPECT_NE(err.find("RuntimeError: callback failed"), std::string::npos) << err;
}

TEST(ConcurrentFuture, VoidFutureCompletesWithoutAValue) {
  concurrent::Future<void> f;
  EXPECT_FALSE(f.done());
  f.set_result();
  EXPECT_NO_THROW(f.result());
  EXPECT_TRUE(f.done());
}

TEST(ConcurrentFuture, CopiesShareOneState) {
  concurrent::Future<int> a;
  auto b = a;
  EXPECT_EQ(a, b);
  b.set_result(3);
  EXPECT_EQ(a.result(), 3);
  EXPECT_FALSE(a == concurrent::Future<int>());
}

TEST(ConcurrentFuture, PrintsItsStateLikePythonsRepr) {
  concurrent::Future<int> f;
  EXPECT_NE(repr(f).find("state=pending>"), std::string::npos) << repr(f);
  EXPECT_EQ(repr(f).rfind("<Future at 0x", 0), 0u) << repr(f);
  f.set_running_or_notify_cancel();
  EXPECT_NE(repr(f).find("state=running>"), std::string::npos) << repr(f);
  f.set_result(1);
  EXPECT_NE(repr(f).find("state=finished returned int>"), std::string::npos) << repr(f);
  concurrent::Future<int> g;
  g.set_exception(std::make_exception_ptr(std::out_of_range("no")));
  EXPECT_NE(repr(g).find("state=finished raised IndexError>"), std::string::npos) << repr(g);
  concurrent::Future<int> c;
  c.cancel();
  EXPECT_NE(repr(c).find("state=cancelled>"), std::string::npos) << repr(c);
}

// ---- ThreadPoolExecutor ------------------------------------------------------------------------

TEST(ThreadPoolExecutor, SubmitReturnsTheCallsResult) {
  ThreadPoolExecutor pool(2);
  auto f = pool.submit([](int a, int b) { return a * b; }, 6, 7);
  EXPECT_EQ(f.result(), 42);
  auto g = pool.submit(add, 1, 2);
  EXPECT_EQ(g.result(), 3);
  std::atomic<int> touched = 0;
  auto v = pool.submit([&] { touched = 1; });
  static_assert(std::is_same_v<decltype(v), concurrent::Future<void>>);
  v.result();
  EXPECT_EQ(touched, 1);
}

TEST(ThreadPoolExecutor, ArgumentsAreCopiedUnlessPassedByReference) {
  ThreadPoolExecutor pool(1);
  std::string s = "before";
  auto by_value = pool.submit([](std::string copy) { copy = "changed"; return copy; }, s);
  EXPECT_EQ(by_value.result(), "changed");
  EXPECT_EQ(s, "before");
  auto by_ref = pool.submit([](std::string& ref) { ref = "changed"; }, std::ref(s));
  by_ref.result();
  EXPECT_EQ(s, "changed");
  auto moved = pool.submit([](std::unique_ptr<int> p) { return *p; }, std::make_unique<int>(9));
  EXPECT_EQ(moved.result(), 9);
}

TEST(ThreadPoolExecutor, AnExceptionPropagatesWithItsTypeAndMessage) {
  ThreadPoolExecutor pool(1);
  auto f = pool.submit([]() -> int { throw std::domain_error("bad domain"); });
  try {
    f.result();
    FAIL() << "no exception";
  } catch (const std::domain_error& e) {
    EXPECT_STREQ(e.what(), "bad domain");
  }
  EXPECT_NE(f.exception(), nullptr);
}

TEST(ThreadPoolExecutor, ACallQueuedBehindABusyWorkerCanBeCancelledBeforeItStarts) {
  ThreadPoolExecutor pool(1);
  std::latch release(1);
  std::atomic<bool> second_ran = false;
  auto first = pool.submit([&] { release.wait(); });
  auto second = pool.submit([&] { second_ran = true; });
  ASSERT_TRUE(eventually([&] { return first.running(); }));
  EXPECT_FALSE(first.cancel());  // running: too late
  EXPECT_TRUE(second.cancel());
  release.count_down();
  first.result();
  pool.shutdown();
  EXPECT_FALSE(second_ran);
  EXPECT_TRUE(second.cancelled());
  EXPECT_THROW(second.result(), concurrent::CancelledError);
}

TEST(ThreadPoolExecutor, ShutdownWithCancelFuturesCancelsQueuedCallsAndFinishesRunningOnes) {
  ThreadPoolExecutor pool(1);
  std::latch release(1);
  auto running = pool.submit([&] {
    release.wait();
    return 1;
  });
  ASSERT_TRUE(eventually([&] { return running.running(); }));
  std::vector<concurrent::Future<int>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(pool.submit([i] { return i; }));
  pool.shutdown(false, true);
  for (auto& f : queued) EXPECT_TRUE(f.cancelled());
  release.count_down();
  pool.shutdown(true);
  EXPECT_EQ(running.result(), 1);
}

TEST(ThreadPoolExecutor, ShutdownWithoutCancellingRunsEveryQueuedCall) {
  std::atomic<int> done = 0;
  std::vector<concurrent::Future<void>> fs;
  {
    ThreadPoolExecutor pool(2);
    for (int i = 0; i < 50; ++i) fs.push_back(pool.submit([&] {
      std::this_thread::sleep_for(100us);
      ++done;
    }));
  }  // the destructor is shutdown(wait=true)
  EXPECT_EQ(done, 50);
  for (auto& f : fs) EXPECT_TRUE(f.done());
}

TEST(ThreadPoolExecutor, SubmitAfterShutdownThrowsRuntimeError) {
  ThreadPoolExecutor pool;
  pool.shutdown();
  pool.shutdown();  // twice is fine
  try {
    pool.submit([] {});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot schedule new futures after shutdown");
  }
}

TEST(ThreadPoolExecutor, MapReturnsResultsInInputOrder) {
  ThreadPoolExecutor pool(4);
  std::vector<int> xs(40);
  for (int i = 0; i < 40; ++i) xs[i] = i;
  // Later inputs finish first, so completion order is not input order.
  auto slow_square = [](int x) {
    std::this_thread::sleep_for(std::chrono::microseconds((40 - x) * 50));
    return x * x;
  };
  std::vector<int> squares = pool.map(slow_square, xs);
  ASSERT_EQ(squares.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(squares[i], i * i);

  int expected = 0;
  for (int sq : pool.map(slow_square, xs)) {
    EXPECT_EQ(sq, expected * expected);
    ++expected;
  }
  EXPECT_EQ(expected, 40);
}

TEST(ThreadPoolExecutor, MapZipsSeveralRangesAndStopsAtTheShortest) {
  ThreadPoolExecutor pool(2);
  std::vector<int> a{1, 2, 3, 4};
  std::vector<std::string> b{"x", "y", "z"};
  std::vector<std::string> r =
      pool.map([](int n, const std::string& s) { return std::string(n, s[0]); }, a, b);
  EXPECT_EQ(r, (std::vector<std::string>{"x", "yy", "zzz"}));
}

TEST(ThreadPoolExecutor, MapRethrowsAtThePositionOfTheFailedCall) {
  ThreadPoolExecutor pool(2);
  std::vector<int> xs{0, 1, 2, 3};
  auto results = pool.map(
      [](int x) {
        if (x == 2) throw std::runtime_error("two");
        return x;
      },
      xs);
  std::vector<int> seen;
  try {
    for (int r : results) seen.push_back(r);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "two");
  }
  EXPECT_EQ(seen, (std::vector<int>{0, 1}));
}

TEST(ThreadPoolExecutor, RunsCallsInParallel) {
  ThreadPoolExecutor pool(2);
  std::latch both(2);
  auto meet = [&] {
    both.count_down();
    return eventually([&] { return both.try_wait(); });
  };
  auto a = pool.submit(meet);
  auto b = pool.submit(meet);
  EXPECT_TRUE(a.result());
  EXPECT_TRUE(b.result());
}

TEST(ThreadPoolExecutor, ReusesAnIdleThreadInsteadOfStartingAnother) {
  ThreadPoolExecutor pool(8);
  std::set<std::thread::id> ids;
  for (int i = 0; i < 20; ++i) ids.insert(pool.submit([] { return std::this_thread::get_id(); }).result());
  EXPECT_EQ(ids.size(), 1u);
}

TEST(ThreadPoolExecutor, AFailingInitializerBreaksThePool) {
  testing::internal::CaptureStderr();
  ThreadPoolExecutor pool(1, "broken", [] { throw std::runtime_error("init failed"); });
  auto f = pool.submit([] { return 1; });
  EXPECT_THROW(f.result(), asyncio::BrokenThreadPool);
  EXPECT_THROW(pool.submit([] { return 2; }), asyncio::BrokenThreadPool);
  pool.shutdown();
  auto err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("init failed"), std::string::npos) << err;
}

TEST(ThreadPoolExecutor, InitializerRunsInEachNewThread) {
  std::atomic<int> inits = 0;
  ThreadPoolExecutor pool(2, "init", [&] { ++inits; });
  std::latch both(2);
  auto meet = [&] {
    both.count_down();
    both.wait();
  };
  auto a = pool.submit(meet);
  auto b = pool.submit(meet);
  a.result();
  b.result();
  EXPECT_EQ(inits, 2);
}

TEST(ThreadPoolExecutor, LeavesNoThreadBehindAfterShutdown) {
  const auto before = baseline_thread_count();
  {
    ThreadPoolExecutor pool(4);
    std::latch all(4);
    std::vector<concurrent::Future<void>> fs;
    for (int i = 0; i < 4; ++i) fs.push_back(pool.submit([&] {
      all.count_down();
      all.wait();
    }));
    for (auto& f : fs) f.result();
    EXPECT_TRUE(eventually([&] { return thread_count() == before + 4; })) << thread_count();
    pool.shutdown();
    EXPECT_TRUE(eventually([&] { return thread_count() == before; })) << thread_count();
  }
  EXPECT_TRUE(eventually([&] { return thread_count() == before; })) << thread_count();
}

TEST(ThreadPoolExecutor, ShutdownFromOneOfItsOwnThreadsDoesNotDeadlock) {
  ThreadPoolExecutor pool(2);
  auto f = pool.submit([&] { pool.shutdown(true); return 1; });
  EXPECT_EQ(f.result(), 1);
  pool.shutdown();
}

TEST(ThreadPoolExecutor, SubmitsFromManyThreadsAllRun) {
  ThreadPoolExecutor pool(3);
  std::atomic<int> sum = 0;
  std::vector<std::thread> submitters;
  std::vector<concurrent::Future<void>> fs[4];
  for (int t = 0; t < 4; ++t)
    submitters.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) fs[t].push_back(pool.submit([&] { ++sum; }));
    });
  for (auto& t : submitters) t.join();
  for (auto& v : fs)
    for (auto& f : v) f.result();
  EXPECT_EQ(sum, 800);
}

TEST(ThreadPoolExecutor, DefaultMaxWorkersIsPythons) {
  std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(ThreadPoolExecutor().max_workers(), std::min<std::size_t>(32, cpus + 4));
  EXPECT_EQ(ThreadPoolExecutor(3).max_workers(), 3u);
}

TEST(ThreadPoolExecutor, PrintsItsState) {
  ThreadPoolExecutor pool(3);
  EXPECT_EQ(repr(pool), "<ThreadPoolExecutor max_workers=3 threads=0 busy=0 queued=0 state=running>");
  pool.submit([] {}).result();
  pool.shutdown();
  EXPECT_EQ(repr(pool), "<ThreadPoolExecutor max_workers=3 threads=0 busy=0 queued=0 state=shutdown>");
}

// ---- ProcessPoolExecutor -----------------------------------------------------------------------

TEST(ProcessPoolExecutor, RunsARegisteredFunctionInAnotherProcess) {
  ProcessPoolExecutor pool(1);
  EXPECT_EQ(pool.submit(add, 2, 3).result(), 5);
  const pid_t worker = pool.submit(current_pid).result();
  EXPECT_NE(worker, ::getpid());
  EXPECT_EQ(pool.worker_pids(), std::vector<pid_t>{worker});
}

// The worker start (issue 10): only a process started by a pool -- the argument
// --asyncio-process-pool-worker AND the variable -- becomes a worker, and only where main()
// calls process_pool_worker_main; the old start took over any process of a linked program that
// merely had ASYNCIO_PROCESS_POOL_WORKER in its environment, before main.
TEST(ProcessPoolExecutor, WorkerMainReturnsInAProcessNoPoolStarted) {
  std::string arg0 = "prog", flag = "--asyncio-process-pool-worker";
  char* plain[] = {arg0.data(), nullptr};
  char* flagged[] = {arg0.data(), flag.data(), nullptr};
  asyncio::process_pool_worker_main(1, plain);
  asyncio::process_pool_worker_main(2, flagged);  // the argument without the variable
  SUCCEED() << "returned: not a worker";
}

TEST(ProcessPoolExecutor, AnInheritedWorkerVariableAloneDoesNotMakeAWorker) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string filter = " --gtest_filter=ProcessPoolExecutor.RunsARegisteredFunctionInAnotherProcess 2>&1";
  for (const std::string& cmd :
       {"ASYNCIO_PROCESS_POOL_WORKER=3 '" + self + "'" + filter,
        "ASYNCIO_PROCESS_POOL_WORKER=3 '" + self + "' --asyncio-process-pool-worker" + filter + " 3</dev/null"}) {
    // The first: the variable alone, which must run the test (a pool, spawning as usual); the
    // second, the control: both, with fd 3 at end of file, so the worker it becomes exits 0
    // without running any test.
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int status = ::pclose(p);
    if (cmd.find("--asyncio-process-pool-worker") == std::string::npos) {
      EXPECT_EQ(status, 0) << out;
      EXPECT_NE(out.find("[  PASSED  ] 1 test"), std::string::npos) << cmd << "\n" << out;
    } else {
      EXPECT_EQ(status, 0) << out;
      EXPECT_EQ(out.find("[  PASSED  ]"), std::string::npos) << cmd << "\n" << out;
    }
  }
}

// Issue 8, defect 14: workers were spawned from "/proc/self/exe", which under
// valgrind is valgrind's own tool, so no pool could start there. Runs the test
// above in this binary under valgrind (its workers run natively).
TEST(ProcessPoolExecutor, StartsUnderValgrind) {
#ifdef ASYNCIO_TEST_SANITIZED
  GTEST_SKIP() << "valgrind cannot run a sanitized binary";
#endif
  if (std::system("command -v valgrind >/dev/null 2>&1") != 0) GTEST_SKIP() << "valgrind is not installed";
  if (std::getenv("ASYNCIO_UNDER_VALGRIND") != nullptr) GTEST_SKIP() << "already under valgrind";
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string cmd = "ASYNCIO_UNDER_VALGRIND=1 valgrind -q --error-exitcode=0 '" + self +
                          "' --gtest_filter=ProcessPoolExecutor.RunsARegisteredFunctionInAnotherProcess"
                          " >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(ProcessPoolExecutor, ArgumentsConvertToTheParameterTypesAndCrossSerialized) {
  ProcessPoolExecutor pool(1);
  EXPECT_EQ(pool.submit(describe, "xs", std::vector<int>{1, 2, 3}).result(), "xs: 1 2 3");
  EXPECT_EQ(pool.submit(add, 'a', 1L).result(), 98);
}

TEST(ProcessPoolExecutor, GmpIntegersSurviveTheTrip) {
  ProcessPoolExecutor pool(1);
  mpz_class big("123456789012345678901234567890123456789");
  EXPECT_EQ(pool.submit(cube, big).result(), big * big * big);
  EXPECT_EQ(pool.submit(cube, mpz_class(-7)).result(), -343);
  EXPECT_EQ(pool.submit(cube, mpz_class(0)).result(), 0);
}

TEST(ProcessPoolExecutor, WorkersSeeGlobalsBuiltBeforeMain) {
  ProcessPoolExecutor pool(1);
  EXPECT_EQ(pool.submit(greeting, 1).result(), "bonjour");
}

TEST(ProcessPoolExecutor, AnExceptionInAWorkerComesBackWithItsTypeAndMessage) {
  ProcessPoolExecutor pool(1);
  auto f = pool.submit(fail_with, "n must be positive");
  try {
    f.result();
    FAIL() << "no exception";
  } catch (const asyncio::RemoteError& e) {
    EXPECT_EQ(e.type_name(), "std::invalid_argument");
    EXPECT_EQ(e.message(), "n must be positive");
    EXPECT_STREQ(e.what(), "std::invalid_argument: n must be positive");
  }
  EXPECT_EQ(pool.submit(add, 1, 1).result(), 2);  // the pool still works
}

TEST(ProcessPoolExecutor, AnUnregisteredFunctionIsRejectedAtSubmit) {
  ProcessPoolExecutor pool(1);
  EXPECT_THROW(pool.submit(not_registered, 1), std::invalid_argument);
}

TEST(ProcessPoolExecutor, MapReturnsResultsInInputOrder) {
  ProcessPoolExecutor pool(2);
  std::vector<int> xs(30), ones(30, 1);
  for (int i = 0; i < 30; ++i) xs[i] = i;
  std::vector<int> r = pool.map(add, xs, ones);
  ASSERT_EQ(r.size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(r[i], i + 1);
}

TEST(ProcessPoolExecutor, DoneCallbacksRunWhenTheReplyArrives) {
  ProcessPoolExecutor pool(1);
  std::latch called(1);
  auto f = pool.submit(add, 20, 22);
  std::atomic<int> seen = 0;
  f.add_done_callback([&](const auto& g) {
    seen = g.result();
    called.count_down();
  });
  called.wait();
  EXPECT_EQ(seen, 42);
}

TEST(ProcessPoolExecutor, AKilledWorkerFailsItsCallWithBrokenProcessPool) {
  ProcessPoolExecutor pool(1);
  auto f = pool.submit(sleep_ms, 60'000);
  auto queued = pool.submit(add, 1, 2);
  ASSERT_TRUE(eventually([&] { return f.running() && !pool.worker_pids().empty(); }));
  ::kill(pool.worker_pids().front(), SIGKILL);
  try {
    f.result();
    FAIL() << "no exception";
  } catch (const asyncio::BrokenProcessPool& e) {
    EXPECT_NE(std::string(e.what()).find("terminated abruptly"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("signal 9"), std::string::npos) << e.what();
  }
  EXPECT_THROW(queued.result(), asyncio::BrokenProcessPool);
  EXPECT_THROW(pool.submit(add, 1, 2), asyncio::BrokenProcessPool);
  EXPECT_THROW(pool.submit(add, 1, 2), asyncio::BrokenExecutor);
  pool.shutdown();
  EXPECT_TRUE(child_processes().empty());
}

TEST(ProcessPoolExecutor, AWorkerThatExitsBreaksThePool) {
  ProcessPoolExecutor pool(2);
  auto f = pool.submit(exit_now, 3);
  try {
    f.result();
    FAIL() << "no exception";
  } catch (const asyncio::BrokenProcessPool& e) {
    EXPECT_NE(std::string(e.what()).find("exited with status 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pool.submit(add, 1, 2), asyncio::BrokenProcessPool);
}

TEST(ProcessPoolExecutor, ShutdownWithCancelFuturesCancelsCallsNotYetSent) {
  ProcessPoolExecutor pool(1);
  auto first = pool.submit(sleep_ms, 100);
  ASSERT_TRUE(eventually([&] { return first.running(); }));
  std::vector<concurrent::Future<int>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(pool.submit(add, i, i));
  pool.shutdown(true, true);
  EXPECT_NO_THROW(first.result());
  for (auto& f : queued) EXPECT_TRUE(f.cancelled());
  EXPECT_THROW(pool.submit(add, 1, 2), std::runtime_error);
}

TEST(ProcessPoolExecutor, CallsQueuedBehindABusyWorkerCanBeCancelled) {
  ProcessPoolExecutor pool(1);
  auto first = pool.submit(sleep_ms, 50);
  auto second = pool.submit(add, 1, 2);
  ASSERT_TRUE(eventually([&] { return first.running(); }));
  EXPECT_FALSE(first.cancel());
  EXPECT_TRUE(second.cancel());
  first.result();
  EXPECT_THROW(second.result(), concurrent::CancelledError);
  EXPECT_EQ(pool.submit(add, 2, 2).result(), 4);
}

TEST(ProcessPoolExecutor, StartsAtMostMaxWorkersProcesses) {
  ProcessPoolExecutor pool(2);
  std::vector<int> xs(20, 5);
  std::vector<concurrent::Future<pid_t>> fs;
  for (int i = 0; i < 20; ++i) fs.push_back(pool.submit(current_pid));
  std::set<pid_t> pids;
  for (auto& f : fs) pids.insert(f.result());
  EXPECT_LE(pids.size(), 2u);
  EXPECT_LE(pool.worker_pids().size(), 2u);
}

TEST(ProcessPoolExecutor, LeavesNoProcessOrThreadBehindAfterShutdown) {
  const auto threads_before = baseline_thread_count();
  ASSERT_TRUE(child_processes().empty());
  {
    ProcessPoolExecutor pool(2);
    std::vector<int> xs{1, 2, 3, 4, 5, 6};
    std::vector<int> r = pool.map(add, xs, xs);
    EXPECT_EQ(r, (std::vector<int>{2, 4, 6, 8, 10, 12}));
    EXPECT_FALSE(child_processes().empty());
    pool.shutdown();
    EXPECT_TRUE(child_processes().empty());
    EXPECT_TRUE(eventually([&] { return thread_count() == threads_before; })) << thread_count();
  }
  EXPECT_TRUE(child_processes().empty());
  EXPECT_TRUE(eventually([&] { return thread_count() == threads_before; })) << thread_count();
}

TEST(ProcessPoolExecutor, ShutdownWithoutWaitStillFinishesTheWork) {
  concurrent::Future<int> f;
  {
    ProcessPoolExecutor pool(1);
    f = pool.submit(add, 4, 5);
    pool.shutdown(false);
    EXPECT_THROW(pool.submit(add, 1, 2), std::runtime_error);
  }
  EXPECT_EQ(f.result(), 9);
  EXPECT_TRUE(child_processes().empty());
}

TEST(ProcessPoolExecutor, SubmitsFromManyThreadsAllComplete) {
  ProcessPoolExecutor pool(2);
  std::vector<std::thread> submitters;
  std::vector<concurrent::Future<int>> fs[3];
  for (int t = 0; t < 3; ++t)
    submitters.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) fs[t].push_back(pool.submit(add, t, i));
    });
  for (auto& t : submitters) t.join();
  for (int t = 0; t < 3; ++t)
    for (int i = 0; i < 30; ++i) EXPECT_EQ(fs[t][static_cast<std::size_t>(i)].result(), t + i);
}

TEST(ProcessPoolExecutor, PrintsItsState) {
  ProcessPoolExecutor pool(2);
  EXPECT_EQ(repr(pool),
            "<ProcessPoolExecutor max_workers=2 processes=0 running=0 queued=0 state=running>");
  pool.submit(add, 1, 1).result();
  pool.shutdown();
  EXPECT_EQ(repr(pool),
            "<ProcessPoolExecutor max_workers=2 processes=0 running=0 queued=0 state=shutdown>");
}

TEST(ProcessPoolExecutor, DefaultMaxWorkersIsTheCoreCount) {
  EXPECT_EQ(ProcessPoolExecutor().max_workers(), std::max(1u, std::thread::hardware_concurrency()));
}

// ---- run_in_executor, to_thread, wrap_future ---------------------------------------------------

namespace {

asyncio::RunOptions virtual_time() { return asyncio::RunOptions{.debug = false, .virtual_time = true, .trace_path = {}}; }

// Coroutines for tasks take what they use as parameters (a lambda's captures would dangle once
// the temporary closure is gone).
asyncio::Coro<void> await_future(asyncio::Future<void> f) { co_await f; }

asyncio::Coro<void> count_down_next_iteration(std::latch* latch) {
  co_await asyncio::sleep(0s);
  latch->count_down();
}

}  // namespace

TEST(RunInExecutor, TheDefaultExecutorIsAThreadPoolCreatedOnFirstUse) {
  asyncio::run([]() -> asyncio::Coro<void> {
    auto& loop = asyncio::get_running_loop();
    EXPECT_EQ(loop.default_executor(), nullptr);
    auto id = co_await loop.run_in_executor(nullptr, [] { return std::this_thread::get_id(); });
    EXPECT_NE(id, std::this_thread::get_id());
    auto* pool = dynamic_cast<ThreadPoolExecutor*>(loop.default_executor().get());
    EXPECT_NE(pool, nullptr);
    if (!pool) co_return;
    EXPECT_EQ(pool->max_workers(), ThreadPoolExecutor::default_max_workers());
    // The same pool serves the next call.
    co_await loop.run_in_executor(nullptr, [] {});
    EXPECT_EQ(dynamic_cast<ThreadPoolExecutor*>(loop.default_executor().get()), pool);
  }());
}

TEST(RunInExecutor, ReturnsTheResultOfACallInAThreadPool) {
  ThreadPoolExecutor pool(2);
  int r = asyncio::run([&]() -> asyncio::Coro<int> {
    co_return co_await asyncio::get_running_loop().run_in_executor(pool, add, 40, 2);
  }());
  EXPECT_EQ(r, 42);
}

TEST(RunInExecutor, ReturnsTheResultOfARegisteredFunctionInAProcessPool) {
  ProcessPoolExecutor pool(1);
  auto [pid, cubed] = asyncio::run([&]() -> asyncio::Coro<std::pair<pid_t, mpz_class>> {
    auto& loop = asyncio::get_running_loop();
    pid_t pid = co_await loop.run_in_executor(pool, current_pid);
    mpz_class cubed = co_await loop.run_in_executor(&pool, cube, mpz_class(1) << 100);
    co_return std::pair{pid, cubed};
  }());
  EXPECT_NE(pid, ::getpid());
  EXPECT_EQ(cubed, mpz_class(1) << 300);
}

TEST(RunInExecutor, AcceptsAnExecutorByPointerSharedPtrOrAsTheAbstractBase) {
  auto threads = std::make_shared<ThreadPoolExecutor>(1);
  auto processes = std::make_shared<ProcessPoolExecutor>(1);
  asyncio::run([&]() -> asyncio::Coro<void> {
    auto& loop = asyncio::get_running_loop();
    EXPECT_EQ(co_await loop.run_in_executor(threads, add, 1, 1), 2);
    EXPECT_EQ(co_await loop.run_in_executor(threads.get(), add, 1, 2), 3);
    asyncio::AbstractExecutor& base = *processes;
    EXPECT_EQ(co_await loop.run_in_executor(base, add, 1, 3), 4);
    std::shared_ptr<asyncio::AbstractExecutor> as_base = threads;
    EXPECT_EQ(co_await loop.run_in_executor(as_base, [] { return 5; }), 5);
    // A process pool cannot run a lambda: said at run time through the abstract base.
    bool refused = false;
    try {
      co_await loop.run_in_executor(base, [] { return 6; });
    } catch (const asyncio::RuntimeError&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
  }());
}

TEST(RunInExecutor, AProcessPoolCanBeTheDefaultExecutor) {
  pid_t pid = asyncio::run([]() -> asyncio::Coro<pid_t> {
    auto& loop = asyncio::get_running_loop();
    loop.set_default_executor(std::make_shared<ProcessPoolExecutor>(1));
    co_return co_await loop.run_in_executor(nullptr, current_pid);
  }());
  EXPECT_NE(pid, ::getpid());
  EXPECT_TRUE(child_processes().empty());  // run() shut it down
}

TEST(RunInExecutor, AnExceptionInTheCallIsThrownWhereItIsAwaited) {
  ThreadPoolExecutor threads(1);
  ProcessPoolExecutor processes(1);
  asyncio::run([&]() -> asyncio::Coro<void> {
    auto& loop = asyncio::get_running_loop();
    std::string thread_error, process_error;
    try {
      co_await loop.run_in_executor(threads, [] { throw std::invalid_argument("bad input"); });
    } catch (const std::invalid_argument& e) {
      thread_error = e.what();
    }
    try {
      co_await loop.run_in_executor(processes, fail_with, "from a worker");
    } catch (const asyncio::RemoteError& e) {
      process_error = e.what();
    }
    EXPECT_EQ(thread_error, "bad input");
    EXPECT_EQ(process_error, "std::invalid_argument: from a worker");
  }());
}

TEST(RunInExecutor, CancellingTheAwaitingTaskCancelsACallThatHasNotStarted) {
  ThreadPoolExecutor pool(1);
  std::latch release(1);
  std::atomic<bool> second_ran = false;
  asyncio::run([&]() -> asyncio::Coro<void> {
    auto& loop = asyncio::get_running_loop();
    auto busy = loop.run_in_executor(pool, [&] { release.wait(); });  // occupies the only thread
    auto waiter =
        asyncio::create_task(await_future(loop.run_in_executor(pool, [&] { second_ran = true; })));
    co_await asyncio::sleep(0s);  // the task starts and waits for the call
    waiter.cancel();
    bool cancelled = false;
    try {
      co_await waiter;
    } catch (const asyncio::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    release.count_down();
    co_await busy;
  }());
  pool.shutdown();
  EXPECT_FALSE(second_ran);  // its concurrent future was cancelled before it started
}

TEST(RunInExecutor, CancellingTheAwaitingTaskLetsARunningCallFinish) {
  ThreadPoolExecutor pool(1);
  std::latch started(1), release(1);
  std::atomic<bool> finished = false;
  asyncio::run([&]() -> asyncio::Coro<void> {
    auto& loop = asyncio::get_running_loop();
    auto waiter = asyncio::create_task(await_future(loop.run_in_executor(pool, [&] {
      started.count_down();
      release.wait();
      finished = true;
    })));
    co_await asyncio::to_thread([&] { started.wait(); });
    waiter.cancel();
    bool cancelled = false;
    try {
      co_await waiter;  // the task ends at once; the call goes on in its thread
    } catch (const asyncio::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_FALSE(finished);
    release.count_down();
  }());
  pool.shutdown();
  EXPECT_TRUE(finished);
}

TEST(RunInExecutor, OtherTasksRunWhileACallBlocks) {
  ThreadPoolExecutor pool(1);
  bool met = asyncio::run([&]() -> asyncio::Coro<bool> {
    auto& loop = asyncio::get_running_loop();
    std::latch signal(1);
    // The call waits for a task of the loop: it can only return if the loop keeps running.
    auto call = loop.run_in_executor(pool, [&] { return eventually([&] { return signal.try_wait(); }); });
    co_await asyncio::create_task(count_down_next_iteration(&signal));
    co_return co_await call;
  }());
  EXPECT_TRUE(met);
}

TEST(RunInExecutor, VirtualTimeDoesNotJumpPastAPendingCall) {
  asyncio::run(
      []() -> asyncio::Coro<void> {
        auto& loop = asyncio::get_running_loop();
        // Integer nanoseconds: time() is a double of a large monotonic value,
        // and a difference of doubles can land a hair under 3600.
        const std::int64_t t0 = loop.now_ns();
        constexpr std::int64_t hour = 3600'000'000'000;
        auto sleeper = asyncio::create_task(asyncio::sleep(3600s));
        co_await loop.run_in_executor(nullptr, [] { std::this_thread::sleep_for(20ms); });
        EXPECT_FALSE(sleeper.done());  // the clock waited for the call instead of jumping an hour
        EXPECT_LT(loop.now_ns() - t0, hour);
        co_await sleeper;  // then it jumps
        EXPECT_GE(loop.now_ns() - t0, hour);
      }(),
      virtual_time());
}

TEST(RunInExecutor, ACallStillRunningWhenTheLoopClosesIsHarmless) {
  ThreadPoolExecutor pool(2);  // outlives the loop
  std::latch started(2), release(1);
  std::atomic<int> finished = 0;
  auto call = [&] {
    started.count_down();
    release.wait();
    ++finished;
  };
  asyncio::run([&]() -> asyncio::Coro<void> {
    auto& loop = asyncio::get_running_loop();
    // Awaited by a task that run() cancels at the end of main:
    asyncio::create_task(await_future(loop.run_in_executor(pool, call)));
    // Never awaited at all:
    (void)loop.run_in_executor(pool, call);
    co_await asyncio::to_thread([&] { started.wait(); });  // both running: too late to cancel
  }());
  release.count_down();  // both calls return after their loop is gone
  pool.shutdown();
  EXPECT_EQ(finished, 2);
}

TEST(RunInExecutor, RunShutsTheDefaultExecutorDown) {
  const auto before = baseline_thread_count();
  asyncio::run([]() -> asyncio::Coro<void> {
    auto& loop = asyncio::get_running_loop();
    co_await loop.run_in_executor(nullptr, [] {});
  }());
  EXPECT_TRUE(eventually([&] { return thread_count() == before; })) << thread_count();
}

TEST(RunInExecutor, OnAClosedLoopThrowsRuntimeError) {
  asyncio::EventLoop loop;
  loop.close();
  EXPECT_THROW(loop.run_in_executor(nullptr, [] {}), asyncio::RuntimeError);
}

TEST(ToThread, RunsTheCallInTheDefaultExecutorAndReturnsItsResult) {
  auto [id, text] = asyncio::run([]() -> asyncio::Coro<std::pair<std::thread::id, std::string>> {
    auto id = co_await asyncio::to_thread([] { return std::this_thread::get_id(); });
    std::vector<int> one(1, 1);  // (g++ 12 cannot keep a braced list's array across co_await)
    auto text = co_await asyncio::to_thread(describe, std::string("n"), one);
    co_await asyncio::to_thread([] {});
    co_return std::pair{id, text};
  }());
  EXPECT_NE(id, std::this_thread::get_id());
  EXPECT_EQ(text, "n: 1");
}

TEST(ToThread, SeveralCallsRunConcurrently) {
  asyncio::run([]() -> asyncio::Coro<void> {
    std::latch both(2);
    auto meet = [&] {
      both.count_down();
      return eventually([&] { return both.try_wait(); });
    };
    auto a = asyncio::create_task(asyncio::to_thread(meet));
    auto b = asyncio::create_task(asyncio::to_thread(meet));
    EXPECT_TRUE(co_await a);
    EXPECT_TRUE(co_await b);
  }());
}

TEST(WrapFuture, CompletesWhenAnotherThreadSetsTheConcurrentFuture) {
  concurrent::Future<std::string> source;
  std::thread setter;
  auto r = asyncio::run([&]() -> asyncio::Coro<std::string> {
    auto fut = asyncio::wrap_future(source);
    setter = std::thread([source]() mutable { source.set_result("from a thread"); });
    co_return co_await fut;
  }());
  setter.join();
  EXPECT_EQ(r, "from a thread");
}

TEST(WrapFuture, CancellingTheAsyncioFutureCancelsThePendingConcurrentFuture) {
  concurrent::Future<int> source;
  asyncio::run([&]() -> asyncio::Coro<void> {
    auto fut = asyncio::wrap_future(source);
    fut.cancel();
    co_await asyncio::sleep(0s);  // the chain's callback runs on the next iteration
  }());
  EXPECT_TRUE(source.cancelled());
}

TEST(WrapFuture, ACancelledConcurrentFutureCancelsTheAsyncioFuture) {
  concurrent::Future<int> source;
  bool cancelled = asyncio::run([&]() -> asyncio::Coro<bool> {
    auto fut = asyncio::wrap_future(source);
    source.cancel();
    try {
      co_await fut;
    } catch (const asyncio::CancelledError&) {
      co_return true;
    }
    co_return false;
  }());
  EXPECT_TRUE(cancelled);
}

TEST(RunInExecutor, TracesEachCallInALaneForItsThreadOrProcess) {
  const auto path = std::filesystem::path(testing::TempDir()) / "executors_trace.json";
  ThreadPoolExecutor threads(1, "tracer");
  ProcessPoolExecutor processes(1);
  pid_t worker = asyncio::run(
      [&]() -> asyncio::Coro<pid_t> {
        auto& loop = asyncio::get_running_loop();
        co_await loop.run_in_executor(threads, [] { std::this_thread::sleep_for(1ms); });
        co_return co_await loop.run_in_executor(processes, current_pid);
      }(),
      asyncio::RunOptions{.debug = false, .virtual_time = false, .trace_path = path.string()});
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  const std::string trace = text.str();
  EXPECT_NE(trace.find("\"thread tracer_0\""), std::string::npos) << trace;
  EXPECT_NE(trace.find("\"process " + std::to_string(worker) + "\""), std::string::npos) << trace;
  EXPECT_NE(trace.find("\"current_pid\""), std::string::npos) << trace;
  EXPECT_NE(trace.find("\"run_in_executor\""), std::string::npos) << trace;
  std::filesystem::remove(path);
}

// The process pool's workers are this test binary: they serve from the top of main, before
// GoogleTest reads the arguments (tests that define main link GTest::gtest, not gtest_main).
int main(int argc, char** argv) {
  asyncio::process_pool_worker_main(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
