#pragma once
/// \file subprocess.hpp
/// Subprocesses (CPython `asyncio/subprocess.py`): `create_subprocess_exec`,
/// `create_subprocess_shell` and `Process`, on libuv's `uv_spawn`.
///
/// ```cpp
/// // proc = await asyncio.create_subprocess_shell("ls -l", stdout=PIPE, stderr=PIPE)
/// // stdout, stderr = await proc.communicate()
/// using asyncio::subprocess::PIPE;
/// asyncio::Process proc = co_await asyncio::create_subprocess_shell(
///     "ls -l", {.stdout = PIPE, .stderr = PIPE});
/// auto [out, err] = co_await proc.communicate();
/// fmt::print("exited with {}\n", *proc.returncode());
/// ```
///
/// Each of `stdin`, `stdout`, `stderr` is left alone (the child shares the
/// parent's: Python's `None`), `PIPE` (a StreamWriter / StreamReader on the
/// Process), `DEVNULL`, `STDOUT` (stderr only: into wherever stdout goes), or
/// `Stdio::fd(n)`: the parent's descriptor `n`. (`stdin`, `stdout` and `stderr`
/// are the names Python uses; glibc defines those macros as themselves, so they
/// are usable as member names.)
///
/// Errors at creation, as Python's: a program that is not found raises
/// FileNotFoundError("[Errno 2] No such file or directory: 'prog'"), one that
/// is not executable (or a directory) PermissionError("[Errno 13] Permission
/// denied: 'prog'"); a `cwd` that does not exist FileNotFoundError naming it.
///
/// Lifetime, and what CPython does:
/// - The loop reaps every child it started: a Process dropped before its child
///   exits leaves no zombie (the loop's process handle outlives the Process).
/// - Cancelling `wait()` or `communicate()` only stops the waiting (CPython
///   3.11, 3.12): the child keeps running, its pipes stay open, and it is reaped
///   when it exits. Bytes that communicate() had already read are lost with it,
///   as in CPython; kill the child yourself if that is what you want.
/// - Closing the loop while a child still runs kills it (SIGKILL) and reaps it,
///   as CPython 3.12+ does when it closes the transport (3.11 leaves the child
///   running for its watcher thread; there is none here, so it would become a
///   zombie). In debug mode this is logged ("Close running child process: kill
///   <Process pid=N running>").
/// - While a child runs, virtual time does not jump (events.hpp).
///
/// Differences from Python's subprocess.Popen: descriptors other than 0-2 are
/// passed only if they are not close-on-exec (every descriptor this library
/// opens is close-on-exec, so in practice close_fds=True); signal handlers
/// and the signal mask are reset to the defaults in the child.
///
/// Thread safety: loop thread only.
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "asyncio/streams.hpp"
#include "asyncio/tasks.hpp"

namespace asyncio {

/// Where a child's standard stream goes (subprocess.PIPE, DEVNULL, STDOUT, an fd, None).
class Stdio {
 public:
  enum class Kind { inherit, pipe, devnull, stdout_, fd };
  constexpr Stdio() noexcept = default;
  constexpr Stdio(Kind kind) noexcept : kind_(kind) {}  // NOLINT: PIPE converts
  /// The parent's descriptor `n`, shared with the child.
  static constexpr Stdio fd(int n) noexcept {
    Stdio s(Kind::fd);
    s.fd_ = n;
    return s;
  }
  constexpr Kind kind() const noexcept { return kind_; }
  constexpr int fd() const noexcept { return fd_; }
  friend std::ostream& operator<<(std::ostream& os, const Stdio& s);

 private:
  Kind kind_ = Kind::inherit;
  int fd_ = -1;
};

namespace subprocess {
/// A pipe to the child: the Process gets a stream for it (`asyncio.subprocess.PIPE`).
inline constexpr Stdio PIPE{Stdio::Kind::pipe};
/// /dev/null (`asyncio.subprocess.DEVNULL`).
inline constexpr Stdio DEVNULL{Stdio::Kind::devnull};
/// stderr only: where stdout goes (`asyncio.subprocess.STDOUT`).
inline constexpr Stdio STDOUT{Stdio::Kind::stdout_};
}  // namespace subprocess

/// The keyword arguments of create_subprocess_exec/shell.
/// Written with designated initializers, as Python's keyword arguments:
/// `{.stdout = PIPE, .stderr = STDOUT}` (every member has a default, so g++
/// does not warn about the ones left out).
struct SubprocessOptions {
  Stdio stdin = {};
  Stdio stdout = {};
  Stdio stderr = {};
  /// The child's working directory (default: the parent's).
  std::optional<std::string> cwd = {};
  /// The child's whole environment (default: the parent's).
  std::optional<std::map<std::string, std::string>> env = {};
  /// The buffer limit of the StreamReaders of stdout and stderr (64 KiB, as Python).
  std::size_t limit = 64 * 1024;
};

namespace detail {
struct ProcessState;
struct SpawnedProcess;
SpawnedProcess spawn_process(EventLoop& loop, std::vector<std::string> argv, const SubprocessOptions& options);
}  // namespace detail

/// A child process (`asyncio.subprocess.Process`). Movable; the child is
/// reaped by the loop whatever becomes of this object (see the file comment).
///
/// `stdin`, `stdout`, `stderr`: the streams of the pipes asked for with PIPE
/// (empty otherwise).
class Process {
 public:
  Process(Process&&) noexcept = default;
  Process& operator=(Process&&) noexcept = default;
  ~Process();

  /// The child's process id.
  int pid() const noexcept;
  /// The exit status once the child has exited (Python's None before): its
  /// exit code, or -N when signal N killed it.
  std::optional<int> returncode() const noexcept;

  /// Waits for the child to exit and returns returncode (`Process.wait`).
  /// With stdout=PIPE or stderr=PIPE, read the pipes (communicate()) or the
  /// child may block on a full pipe and never exit, as Python warns.
  Coro<int> wait();
  /// Writes `input` to stdin (then closes it), reads stdout and stderr to
  /// their end, all at once, then waits for the child (`Process.communicate`).
  /// Returns (stdout, stderr); each is empty unless its pipe was asked for.
  /// Never deadlocks on a child that writes much or reads slowly. Input needs
  /// stdin=PIPE (ValueError otherwise; Python fails with AttributeError). A
  /// child that exits without reading its input is no error (BrokenPipe is
  /// ignored, as Python does).
  Coro<std::pair<std::string, std::string>> communicate(std::optional<std::string> input = std::nullopt) {
    return communicate_impl(std::move(input));  // (a coroutine with a default argument trips g++ 12)
  }

  /// Sends signal `sig` (`Process.send_signal`). ProcessLookupError once the
  /// child has exited (as Python once the transport is closed).
  void send_signal(int sig);
  /// SIGTERM (`Process.terminate`).
  void terminate();
  /// SIGKILL (`Process.kill`).
  void kill();

  std::optional<StreamWriter> stdin;
  std::optional<StreamReader> stdout;
  std::optional<StreamReader> stderr;

  /// `<Process 1234>`, as Python; with `returncode=N` once exited.
  friend std::ostream& operator<<(std::ostream& os, const Process& p);

 private:
  friend struct detail::SpawnedProcess;
  explicit Process(std::shared_ptr<detail::ProcessState> state) noexcept : state_(std::move(state)) {}
  Coro<std::pair<std::string, std::string>> communicate_impl(std::optional<std::string> input);
  std::shared_ptr<detail::ProcessState> state_;
};

/// Starts `program` with `args` (`asyncio.create_subprocess_exec`); `program`
/// is looked up in PATH when it has no slash. See the file comment for errors.
Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args = {},
                                     SubprocessOptions options = {});

/// `create_subprocess_exec("ls", "-l", "/tmp", options)`: the arguments one by
/// one, as Python's `*args`; the options, if any, last.
template <class... A>
  requires(sizeof...(A) > 0)
Coro<Process> create_subprocess_exec(std::string program, A&&... a) {
  std::vector<std::string> args;
  SubprocessOptions options;
  auto take = [&]<class X>(X&& x) {
    if constexpr (std::is_same_v<std::decay_t<X>, SubprocessOptions>) {
      options = std::forward<X>(x);
    } else {
      args.emplace_back(std::forward<X>(x));
    }
  };
  (take(std::forward<A>(a)), ...);
  return create_subprocess_exec(std::move(program), std::move(args), std::move(options));
}

/// Runs `cmd` with `/bin/sh -c` (`asyncio.create_subprocess_shell`). Quote
/// what comes from outside: the shell interprets it.
Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options = {});

}  // namespace asyncio
