// Subprocesses (subprocess.hpp, src/process.cpp, src/subprocess.cpp): real
// children on the real clock, each test under a watchdog; timing semantics
// (virtual time while a child runs) in virtual time.
//
// The Python each test follows (CPython 3.11):
//
//   p = await asyncio.create_subprocess_exec("sh", "-c", "exit 3"); await p.wait()   # 3
//   p = await asyncio.create_subprocess_exec("sleep", "100"); p.kill(); await p.wait()  # -9
//   p.send_signal(signal.SIGTERM)        # after exit: ProcessLookupError
//   await asyncio.create_subprocess_exec("nonexistent-prog")
//       # FileNotFoundError: [Errno 2] No such file or directory: 'nonexistent-prog'
//   await asyncio.create_subprocess_exec("/etc/passwd")
//       # PermissionError: [Errno 13] Permission denied: '/etc/passwd'
//   await asyncio.create_subprocess_exec("ls", cwd="/nonexist")
//       # FileNotFoundError: [Errno 2] No such file or directory: '/nonexist'
//   p = await asyncio.create_subprocess_shell("echo out; echo err >&2",
//                                             stdout=PIPE, stderr=STDOUT)
//   await p.communicate()                # (b'out\nerr\n', None)
//   p = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE)
//   await p.communicate(data)            # (data, None) for 100 MB: no deadlock
//   await asyncio.wait_for(p.wait(), 0.05)   # TimeoutError; the child still runs
#include "asyncio/subprocess.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "asyncio/runners.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/tasks_combinators.hpp"
#include "asyncio/transports.hpp"  // uv_handles_alive
#include "support.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using asyncio::subprocess::DEVNULL;
using asyncio::subprocess::PIPE;
using asyncio::subprocess::STDOUT;

namespace {

/// The real clock under a watchdog; afterwards no libuv handle alive (the
/// tests check frames themselves).
template <class T>
T run_real(asyncio::Coro<T> main) {
  test::Watchdog dog("test_subprocess", 120s);
  struct After {
    ~After() { EXPECT_EQ(asyncio::detail::uv_handles_alive(), 0u) << "libuv handles outlived the loop"; }
  } after;
  return asyncio::run(std::move(main));
}

bool reaped(int pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

TEST(Subprocess, WaitReturnsTheExitCode) {
  auto codes = run_real([]() -> asyncio::Coro<std::vector<int>> {
    std::vector<int> out;
    for (const char* cmd : {"exit 0", "exit 3", "exit 255"}) {
      asyncio::Process p = co_await asyncio::create_subprocess_shell(cmd);
      EXPECT_FALSE(p.returncode().has_value());
      out.push_back(co_await p.wait());
      EXPECT_EQ(p.returncode(), out.back());
      EXPECT_EQ(co_await p.wait(), out.back());  // again: at once
    }
    co_return out;
  }());
  EXPECT_THAT(codes, testing::ElementsAre(0, 3, 255));
  test::expect_no_frames();
}

TEST(Subprocess, DeathByASignalIsTheNegativeSignalNumber) {
  auto codes = run_real([]() -> asyncio::Coro<std::vector<int>> {
    std::vector<int> out;
    asyncio::Process a = co_await asyncio::create_subprocess_exec("sleep", "100");
    a.kill();
    out.push_back(co_await a.wait());
    asyncio::Process b = co_await asyncio::create_subprocess_exec("sleep", "100");
    b.terminate();
    out.push_back(co_await b.wait());
    asyncio::Process c = co_await asyncio::create_subprocess_exec("sleep", "100");
    c.send_signal(SIGUSR1);
    out.push_back(co_await c.wait());
    EXPECT_THROW(c.send_signal(SIGTERM), asyncio::ProcessLookupError);
    co_return out;
  }());
  EXPECT_THAT(codes, testing::ElementsAre(-SIGKILL, -SIGTERM, -SIGUSR1));
  test::expect_no_frames();
}

// (No default argument: g++ 12 mishandles braced defaults of coroutines.)
asyncio::Coro<std::string> creation_error(std::string program, asyncio::SubprocessOptions options) {
  std::string error = "no error";
  try {
    asyncio::Process p = co_await asyncio::create_subprocess_exec(program, {}, options);
    co_await p.wait();
  } catch (const asyncio::FileNotFoundError& e) {
    error = std::string("FileNotFoundError: ") + e.what();
  } catch (const asyncio::PermissionError& e) {
    error = std::string("PermissionError: ") + e.what();
  } catch (const std::exception& e) {
    error = std::string("other: ") + e.what();
  }
  co_return error;
}

TEST(Subprocess, AProgramNotFoundOrNotExecutableFailsAtCreationAsInPython) {
  auto errors = run_real([]() -> asyncio::Coro<std::vector<std::string>> {
    std::vector<std::string> out;
    // Named arguments: g++ 12 frees temporaries of a co_await expression twice.
    std::vector<std::pair<std::string, asyncio::SubprocessOptions>> cases = {
        {"nonexistent-prog", {}}, {"/etc/passwd", {}}, {"/tmp", {}}, {"ls", {.cwd = "/nonexist"}}};
    for (auto& [program, options] : cases) {
      auto error = creation_error(program, options);
      out.push_back(co_await std::move(error));
    }
    co_return out;
  }());
  EXPECT_THAT(errors, testing::ElementsAre("FileNotFoundError: [Errno 2] No such file or directory: 'nonexistent-prog'",
                                           "PermissionError: [Errno 13] Permission denied: '/etc/passwd'",
                                           "PermissionError: [Errno 13] Permission denied: '/tmp'",
                                           "FileNotFoundError: [Errno 2] No such file or directory: '/nonexist'"));
  test::expect_no_frames();
}

TEST(Subprocess, StderrMergedIntoStdout) {
  auto [out, err] = run_real([]() -> asyncio::Coro<std::pair<std::string, std::string>> {
    asyncio::Process p =
        co_await asyncio::create_subprocess_shell("echo out; echo err >&2; echo out2", {.stdout = PIPE, .stderr = STDOUT});
    EXPECT_FALSE(p.stderr.has_value());
    co_return co_await p.communicate();
  }());
  EXPECT_EQ(out, "out\nerr\nout2\n");
  EXPECT_EQ(err, "");
  test::expect_no_frames();
}

TEST(Subprocess, CommunicatePassesAHundredMegabytesInAndOutWithoutDeadlock) {
  std::string input(100'000'000, '\0');
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>((i * 7 + i / 65'536) & 0xff);
  auto [out, err] = run_real([&]() -> asyncio::Coro<std::pair<std::string, std::string>> {
    asyncio::Process p = co_await asyncio::create_subprocess_exec("cat", asyncio::SubprocessOptions{.stdin = PIPE, .stdout = PIPE, .stderr = PIPE});
    auto result = co_await p.communicate(input);
    EXPECT_EQ(p.returncode(), 0);
    co_return result;
  }());
  EXPECT_EQ(out.size(), input.size());
  EXPECT_TRUE(out == input);
  EXPECT_EQ(err, "");
  test::expect_no_frames();
}

TEST(Subprocess, ChildrenThatReadNoInputAreNoError) {
  auto code = run_real([]() -> asyncio::Coro<int> {
    asyncio::Process p = co_await asyncio::create_subprocess_exec("true", asyncio::SubprocessOptions{.stdin = PIPE});
    co_await p.communicate(std::string(10'000'000, 'x'));  // EPIPE (and no SIGPIPE death) ignored
    co_return *p.returncode();
  }());
  EXPECT_EQ(code, 0);
  test::expect_no_frames();
}

TEST(Subprocess, AChildThatClosesItsStdoutEarlyGivesEofWhileItRuns) {
  auto log = run_real([]() -> asyncio::Coro<std::vector<std::string>> {
    std::vector<std::string> out;
    asyncio::Process p = co_await asyncio::create_subprocess_shell(
        "echo early; exec 1>&-; read x; exit 4", {.stdin = PIPE, .stdout = PIPE});
    out.push_back(co_await p.stdout->read());  // to EOF: the child closed its stdout
    out.push_back(p.returncode() ? "exited" : "still running");  // blocked on stdin: certain
    p.stdin->write("go\n");
    p.stdin->close();
    out.push_back(std::to_string(co_await p.wait()));
    co_return out;
  }());
  EXPECT_THAT(log, testing::ElementsAre("early\n", "still running", "4"));
  test::expect_no_frames();
}

TEST(Subprocess, ReadsLinesAsTheChildWritesThem) {
  auto lines = run_real([]() -> asyncio::Coro<std::vector<std::string>> {
    std::vector<std::string> out;
    // The child answers each line it reads: the parent must get each answer
    // before it sends the next line, or both would wait forever.
    asyncio::Process p = co_await asyncio::create_subprocess_shell(
        "while read x; do echo \"got $x\"; done", {.stdin = PIPE, .stdout = PIPE});
    for (const char* word : {"one", "two", "three"}) {
      p.stdin->write(std::string(word) + "\n");
      co_await p.stdin->drain();
      out.push_back(co_await p.stdout->readline());
    }
    p.stdin->close();
    out.push_back(co_await p.stdout->readline());  // EOF: ""
    out.push_back(std::to_string(co_await p.wait()));
    co_return out;
  }());
  EXPECT_THAT(lines, testing::ElementsAre("got one\n", "got two\n", "got three\n", "", "0"));
  test::expect_no_frames();
}

TEST(Subprocess, CwdEnvDevnullAndInheritedDescriptors) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  int write_end = fds[1];
  std::string out = run_real([write_end]() -> asyncio::Coro<std::string> {
    asyncio::SubprocessOptions options{.stdin = DEVNULL, .stdout = PIPE, .cwd = "/tmp"};
    options.env = std::map<std::string, std::string>{{"FOO", "bar"}, {"PATH", "/usr/bin:/bin"}};
    asyncio::Process a = co_await asyncio::create_subprocess_shell("pwd; echo \"$FOO\"; cat; echo done", options);
    auto [o, e] = co_await a.communicate();
    // stdout on a descriptor of ours: the parent's pipe gets it.
    asyncio::Process b = co_await asyncio::create_subprocess_shell("echo via fd", {.stdout = asyncio::Stdio::fd(write_end)});
    co_await b.wait();
    co_return o;
  }());
  close(fds[1]);
  char buf[64] = {};
  ssize_t n = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  EXPECT_EQ(out, "/tmp\nbar\ndone\n");
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "via fd\n");
  test::expect_no_frames();
}

TEST(Subprocess, TwoHundredChildrenAtOnce) {
  auto outputs = run_real([]() -> asyncio::Coro<std::vector<std::string>> {
    std::vector<asyncio::Coro<std::string>> children;
    for (int i = 0; i < 200; ++i) {
      children.push_back([](int i) -> asyncio::Coro<std::string> {
        asyncio::Process p = co_await asyncio::create_subprocess_exec("sh", "-c", "echo $0", std::to_string(i),
                                                                      asyncio::SubprocessOptions{.stdout = PIPE});
        auto [out, err] = co_await p.communicate();
        co_return out;
      }(i));
    }
    co_return co_await asyncio::gather(std::move(children));
  }());
  ASSERT_EQ(outputs.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(outputs[static_cast<std::size_t>(i)], std::to_string(i) + "\n");
  test::expect_no_frames();
}

TEST(Subprocess, AChildThatOutlivesItsProcessObjectIsStillReaped) {
  bool was_reaped = run_real([]() -> asyncio::Coro<bool> {
    int pid = 0;
    {
      asyncio::Process p = co_await asyncio::create_subprocess_exec("sh", "-c", "exit 0");
      pid = p.pid();
    }  // dropped without wait()
    // A zombie still answers kill(pid, 0); a reaped child does not.
    while (!reaped(pid)) co_await asyncio::sleep(10ms);  // the watchdog fails a hang
    co_return true;
  }());
  EXPECT_TRUE(was_reaped);
  test::expect_no_frames();
}

TEST(Subprocess, ClosingTheLoopKillsAndReapsAChildStillRunning) {
  int pid = run_real([]() -> asyncio::Coro<int> {
    asyncio::Process p = co_await asyncio::create_subprocess_exec("sleep", "100");
    co_return p.pid();
  }());
  EXPECT_TRUE(reaped(pid));
  test::expect_no_frames();
}

TEST(Subprocess, CancellingWaitLeavesTheChildRunning) {
  auto log = run_real([]() -> asyncio::Coro<std::vector<std::string>> {
    std::vector<std::string> out;
    asyncio::Process p = co_await asyncio::create_subprocess_exec("sleep", "100");
    try {
      co_await asyncio::wait_for(p.wait(), 50ms);
    } catch (const asyncio::TimeoutError&) {
      out.push_back("timeout");
    }
    out.push_back(reaped(p.pid()) || p.returncode() ? "gone" : "still running");
    p.kill();
    out.push_back(std::to_string(co_await p.wait()));
    co_return out;
  }());
  EXPECT_THAT(log, testing::ElementsAre("timeout", "still running", "-9"));
  test::expect_no_frames();
}

TEST(Subprocess, VirtualTimeDoesNotJumpWhileAChildRuns) {
  test::Watchdog dog("test_subprocess", 60s);
  bool timer_fired = false;
  double waited = test::run_virtual([&]() -> asyncio::Coro<double> {
    auto& loop = asyncio::get_running_loop();
    double start = loop.time();
    auto sleeper = [&]() -> asyncio::Coro<> {  // named: its captures must outlive the task
      co_await asyncio::sleep(3600s);
      timer_fired = true;
    };
    auto timer = asyncio::create_task(sleeper());
    asyncio::Process p = co_await asyncio::create_subprocess_exec("sleep", "0.2");
    co_await p.wait();
    timer.cancel();
    co_return loop.time() - start;
  }());
  EXPECT_FALSE(timer_fired);
  EXPECT_LT(waited, 3600.0);
  EXPECT_EQ(asyncio::detail::uv_handles_alive(), 0u);
  test::expect_no_frames();
}

TEST(Subprocess, MisuseIsAClearError) {
  run_real([]() -> asyncio::Coro<> {
    asyncio::Process p = co_await asyncio::create_subprocess_exec("true");
    try {
      co_await p.communicate("input without a pipe");
      ADD_FAILURE() << "no error";
    } catch (const asyncio::ValueError& e) {
      EXPECT_STREQ(e.what(), "communicate(input) needs stdin=PIPE");
    }
    co_await p.wait();
    try {
      co_await asyncio::create_subprocess_exec("true", asyncio::SubprocessOptions{.stdout = STDOUT});
      ADD_FAILURE() << "no error";
    } catch (const asyncio::ValueError& e) {
      EXPECT_STREQ(e.what(), "STDOUT is only valid for stderr");
    }
  }());
  test::expect_no_frames();
}

// Threads meet here (label `threads`): loops on two threads each start and
// reap their own children at the same time (libuv's SIGCHLD handling is per
// process; each loop must reap only its own).
TEST(Subprocess, LoopsOnTwoThreadsEachReapTheirOwnChildren) {
  test::Watchdog dog("test_subprocess", 120s);
  auto body = [](int base) {
    return asyncio::run([](int base) -> asyncio::Coro<int> {
      int sum = 0;
      for (int i = 0; i < 20; ++i) {
        asyncio::Process p = co_await asyncio::create_subprocess_shell("exit " + std::to_string(base + i));
        sum += co_await p.wait();
      }
      co_return sum;
    }(base));
  };
  int a = 0, b = 0;
  std::thread t([&] { a = body(0); });
  b = body(100);
  t.join();
  EXPECT_EQ(a, 190);
  EXPECT_EQ(b, 2190);
}

}  // namespace
