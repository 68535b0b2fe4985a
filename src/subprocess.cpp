// asyncio.subprocess: Process and create_subprocess_exec/shell (CPython
// subprocess.py). The child itself is src/process.cpp (uv_process_t); its
// pipes are uv_pipe_t stream transports (stream_transport.hpp) with the
// streams of streams.hpp.
#include <signal.h>
#include <uv.h>

#include <ostream>

#include "asyncio/detail/trace.hpp"
#include "asyncio/tasks_combinators.hpp"
#include "process.hpp"
#include "stream_transport.hpp"
#include "uv_handle.hpp"

namespace asyncio {
namespace {

using detail::StreamTransport;

/// A pipe end of ours as a stream transport with a StreamReaderProtocol;
/// returns once connection_made has run (CPython's connect_read_pipe /
/// connect_write_pipe). Takes ownership of `fd`.
Coro<std::shared_ptr<StreamReaderProtocol>> connect_pipe(EventLoop& loop, int fd, bool read, std::size_t limit,
                                                         std::shared_ptr<Transport>& transport) {
  detail::UvHandle h = detail::UvHandle::make("pipe");
  if (int rc = uv_pipe_init(loop.uv_loop(), h.pipe(), 0); rc != 0) {
    ::close(fd);
    throw_os_error(-rc);
  }
  if (int rc = uv_pipe_open(h.pipe(), fd); rc != 0) {
    ::close(fd);
    h.initialized(nullptr);
    throw_os_error(-rc);
  }
  auto protocol = std::make_shared<StreamReaderProtocol>(StreamReader(limit));
  Future<void> waiter = loop.create_future<void>();
  StreamTransport::Options options;
  options.read = read;
  options.close_on_eof = true;  // CPython's _UnixReadPipeTransport closes at EOF
  options.can_write_eof = !read;
  transport = StreamTransport::start(loop, std::move(h), StreamTransport::Kind::pipe, protocol, options, waiter);
  co_await waiter;
  co_return protocol;
}

Coro<Process> create(std::vector<std::string> argv, SubprocessOptions options) {
  EventLoop& loop = get_running_loop();
  detail::ignore_sigpipe_once();
  detail::SpawnedProcess spawned = detail::spawn_process(loop, std::move(argv), options);
  Process proc = detail::SpawnedProcess::make(spawned.state);
  // CPython's _connect_pipes: stdin, stdout, stderr, in that order. A failure
  // here leaves the child to the loop (reaped at exit, killed at close).
  std::shared_ptr<Transport> t;
  int* fds = spawned.fds;
  struct CloseLeft {
    int* fds;
    ~CloseLeft() {
      for (int i = 0; i < 3; ++i)
        if (fds[i] >= 0) ::close(fds[i]);
    }
  } close_left{fds};
  if (fds[0] >= 0) {
    auto protocol = co_await connect_pipe(loop, std::exchange(fds[0], -1), false, options.limit, t);
    proc.stdin.emplace(t, protocol);
  }
  if (fds[1] >= 0) {
    auto protocol = co_await connect_pipe(loop, std::exchange(fds[1], -1), true, options.limit, t);
    proc.stdout.emplace(protocol->reader());
  }
  if (fds[2] >= 0) {
    auto protocol = co_await connect_pipe(loop, std::exchange(fds[2], -1), true, options.limit, t);
    proc.stderr.emplace(protocol->reader());
  }
  co_return proc;
}

// communicate()'s three parts (CPython's _feed_stdin and _read_stream).
Coro<int> feed_stdin(StreamWriter writer, std::optional<std::string> input) {
  try {
    if (input) writer.write(std::move(*input));
    co_await writer.drain();
  } catch (const BrokenPipeError&) {
    // communicate() ignores BrokenPipeError and ConnectionResetError: the
    // child exited (or closed its stdin) without reading everything.
  } catch (const ConnectionResetError&) {
  }
  writer.close();
  co_return 0;
}

Coro<std::string> read_stream(StreamReader reader) { co_return co_await reader.read(); }

Coro<std::string> nothing() { co_return std::string(); }
Coro<int> nothing_fed() { co_return 0; }

}  // namespace

Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args, SubprocessOptions options) {
  args.insert(args.begin(), std::move(program));
  return create(std::move(args), std::move(options));
}

Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options) {
  return create({"/bin/sh", "-c", std::move(cmd)}, std::move(options));
}

Process::~Process() = default;

int Process::pid() const noexcept { return state_->pid; }

std::optional<int> Process::returncode() const noexcept { return state_->returncode; }

Coro<int> Process::wait() {
  std::shared_ptr<detail::ProcessState> st = state_;
  if (st->returncode) co_return *st->returncode;
  Future<int> exited = st->loop->create_future<int>();
  st->waiters.push_back(exited);
  detail::ScopedAwaitLabel label(*detail::t_running_loop, exited.impl(), "child process");
  co_return co_await exited;
}

Coro<std::pair<std::string, std::string>> Process::communicate_impl(std::optional<std::string> input) {
  if (input && !stdin) throw ValueError("communicate(input) needs stdin=PIPE");
  // 3.12's order: stdin is fed (and closed) even without input.
  Coro<int> feed = stdin ? feed_stdin(*stdin, std::move(input)) : nothing_fed();
  Coro<std::string> out = stdout ? read_stream(*stdout) : nothing();
  Coro<std::string> err = stderr ? read_stream(*stderr) : nothing();
  auto [fed, out_bytes, err_bytes] = co_await gather(std::move(feed), std::move(out), std::move(err));
  (void)fed;
  co_await wait();
  co_return std::pair{std::move(out_bytes), std::move(err_bytes)};
}

void Process::send_signal(int sig) { detail::send_signal(*state_, sig); }
void Process::terminate() { send_signal(SIGTERM); }
void Process::kill() { send_signal(SIGKILL); }

std::ostream& operator<<(std::ostream& os, const Process& p) {
  os << "<Process " << p.pid();
  if (auto rc = p.returncode()) os << " returncode=" << *rc;
  return os << ">";
}

std::ostream& operator<<(std::ostream& os, const Stdio& s) {
  switch (s.kind()) {
    case Stdio::Kind::inherit: return os << "None";
    case Stdio::Kind::pipe: return os << "PIPE";
    case Stdio::Kind::devnull: return os << "DEVNULL";
    case Stdio::Kind::stdout_: return os << "STDOUT";
    case Stdio::Kind::fd: return os << s.fd();
  }
  return os;
}

}  // namespace asyncio
