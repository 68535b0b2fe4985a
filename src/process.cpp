// Child processes on uv_process_t (CPython unix_events._UnixSubprocessTransport,
// base_subprocess.py; uvloop's handles/process.pyx). One owner per uv_process_t,
// freed in its close callback; the owner outlives the Process object until the
// child has been reaped.
#include "process.hpp"

#include "uv_handle.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace asyncio {
namespace detail {
namespace {

/// Owns one uv_process_t (in a UvHandle: the memory goes in the close
/// callback); lives until the child has exited and been reaped, whatever
/// becomes of the Process.
struct ProcessHandle {
  UvHandle handle;
  std::shared_ptr<ProcessState> state;

  static void on_exit(uv_process_t* h, std::int64_t status, int term_signal) {
    auto* self = UvHandle::user_of<ProcessHandle>(h);
    if (self == nullptr) return;
    std::shared_ptr<ProcessState> st = std::move(self->state);
    delete self;  // closes the handle: libuv has reaped the child
    st->exited(term_signal != 0 ? -term_signal : static_cast<int>(status));
  }

  /// The loop closes while the child runs (UvHandle's leftover hook; the
  /// handle is already closed): kill it and reap it, as CPython 3.12+ does
  /// when the transport is closed; nobody is left to reap it later.
  static void on_leftover(void* user) {
    auto* self = static_cast<ProcessHandle*>(user);
    std::shared_ptr<ProcessState> st = std::move(self->state);
    delete self;
    if (st->loop->get_debug()) {
      std::fprintf(stderr, "Close running child process: kill <Process %d running>\n", st->pid);
      std::fflush(stderr);
    }
    ::kill(st->pid, SIGKILL);
    int status = 0;
    while (::waitpid(st->pid, &status, 0) < 0 && errno == EINTR) {
    }
    st->returncode = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
    st->handle = nullptr;
    st->waiters.clear();  // their tasks went with the loop
  }
};

/// A descriptor closed at scope exit unless released.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    reset();
    fd = std::exchange(o.fd, -1);
    return *this;
  }
  ~Fd() { reset(); }
  void reset() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int release() noexcept { return std::exchange(fd, -1); }
};

/// pipe2 with both ends close-on-exec: {read end, write end}.
std::pair<Fd, Fd> make_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_os_error(errno);
  return {Fd(p[0]), Fd(p[1])};
}

}  // namespace

void ProcessState::exited(int code) {
  returncode = code;
  handle = nullptr;
  for (auto& w : std::exchange(waiters, {})) {
    if (!w.done()) w.set_result(code);
  }
}

SpawnedProcess spawn_process(EventLoop& loop, std::vector<std::string> argv, const SubprocessOptions& o) {
  if (loop.is_closed()) throw RuntimeError("Event loop is closed");
  if (o.stdin.kind() == Stdio::Kind::stdout_ || o.stdout.kind() == Stdio::Kind::stdout_)
    throw ValueError("STDOUT is only valid for stderr");
  SpawnedProcess out;
  Fd child_ends[3];
  Fd parent_ends[3];
  uv_stdio_container_t stdio[3];
  const Stdio* asked[3] = {&o.stdin, &o.stdout, &o.stderr};
  for (int i = 0; i < 3; ++i) {
    const Stdio& s = *asked[i];
    switch (s.kind()) {
      case Stdio::Kind::inherit:
        stdio[i].flags = UV_INHERIT_FD;
        stdio[i].data.fd = i;
        break;
      case Stdio::Kind::fd:
        if (s.fd() < 0) throw ValueError("bad file descriptor " + std::to_string(s.fd()));
        stdio[i].flags = UV_INHERIT_FD;
        stdio[i].data.fd = s.fd();
        break;
      case Stdio::Kind::devnull:
        stdio[i].flags = UV_IGNORE;  // libuv opens /dev/null in the child
        break;
      case Stdio::Kind::pipe: {
        auto [r, w] = make_pipe();
        if (i == 0) {
          child_ends[i] = std::move(r);
          parent_ends[i] = std::move(w);
        } else {
          child_ends[i] = std::move(w);
          parent_ends[i] = std::move(r);
        }
        stdio[i].flags = UV_INHERIT_FD;
        stdio[i].data.fd = child_ends[i].fd;
        break;
      }
      case Stdio::Kind::stdout_:  // stderr into stdout
        stdio[i] = stdio[1];
        break;
    }
  }

  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  std::vector<char*> env;
  if (o.env) {
    for (const auto& [k, v] : *o.env) env_strings.push_back(k + "=" + v);
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
  }
  uv_process_options_t opts{};
  opts.exit_cb = &ProcessHandle::on_exit;
  opts.file = argv[0].c_str();
  opts.args = args.data();
  opts.env = o.env ? env.data() : nullptr;
  opts.cwd = o.cwd ? o.cwd->c_str() : nullptr;
  opts.stdio_count = 3;
  opts.stdio = stdio;

  auto owner = std::make_unique<ProcessHandle>();
  owner->handle = UvHandle::make("process");
  int rc = uv_spawn(loop.uv_loop(), owner->handle.process(), &opts);
  // uv_spawn initialises the handle even when it fails: it must be closed.
  owner->handle.initialized(owner.get(), &ProcessHandle::on_leftover);
  if (rc != 0) {
    // Python names the cwd when it is what failed (_posixsubprocess's "noexec" step).
    std::string name = argv[0];
    if (o.cwd && rc == UV_ENOENT && !std::filesystem::is_directory(*o.cwd)) name = *o.cwd;
    throw_os_error(-rc, {}, name);
  }
  auto state = std::make_shared<ProcessState>();
  state->loop = &loop;
  state->pid = owner->handle.process()->pid;
  state->handle = owner->handle.process();
  owner->state = state;
  owner.release();  // until the child exits (on_exit) or the loop closes (on_leftover)
  out.state = std::move(state);
  for (int i = 0; i < 3; ++i) out.fds[i] = parent_ends[i].release();
  return out;  // the child ends close here: the child holds its own
}

void send_signal(ProcessState& st, int sig) {
  if (st.returncode || st.handle == nullptr) throw ProcessLookupError();
  if (int rc = uv_process_kill(st.handle, sig); rc != 0) {
    if (rc == UV_ESRCH) throw ProcessLookupError();
    throw_os_error(-rc);
  }
}

}  // namespace detail
}  // namespace asyncio
