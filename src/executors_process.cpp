// The process pool (CPython's concurrent/futures/process.py with the "spawn" start method):
// the function registry, the worker mode, the wire protocol and the manager thread.
//
// Wire protocol, on one AF_UNIX stream socketpair per worker (fd 3 in the worker):
//   frame    = u32 body length (host order), body
//   request  = u8 1, u64 id, u32 name length, name, serialized std::tuple of the arguments
//   reply    = u8 1, u64 id, serialized result
//            | u8 2, u64 id, u32 type length, demangled exception type, what()
// One call is in flight per worker. A worker exits when its socket reaches end of file (the
// pool shut down, or the parent died); the parent sees a worker's death as end of file.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "asyncio/process_pool.hpp"
#include "manager_thread.hpp"
#include "wire_reader.hpp"

extern char** environ;

namespace asyncio {
namespace {

constexpr const char* kWorkerVariable = "ASYNCIO_PROCESS_POOL_WORKER";
constexpr int kWorkerFd = 3;
constexpr std::uint8_t kCall = 1, kResult = 1, kError = 2;
// A frame's length is a u32; leave room for the header fields.
constexpr std::size_t kMaxPayload = std::numeric_limits<std::uint32_t>::max() - 4096;

// ---- the registry ------------------------------------------------------------------------------

struct RegisteredFunction {
  detail::ErasedFunction fn;
  detail::ProcessInvoker invoker;
  detail::ErasedProcessSubmit submit;  // run_in_executor through an AbstractExecutor&
};

constexpr const char* kNotRegistered =
    "ProcessPoolExecutor: the function is not registered; add "
    "ASYNCIO_REGISTER_PROCESS_FUNCTION(name) at namespace scope";

/// Names <-> functions. A function-local static, so registrations from any translation unit's
/// static initialisation find it constructed.
struct Registry {
  std::mutex mutex;
  std::map<std::string, RegisteredFunction, std::less<>> by_name;
  std::map<std::uintptr_t, std::string_view> by_function;
};

Registry& registry() {
  static Registry r;
  return r;
}

std::uintptr_t key(detail::ErasedFunction fn) { return reinterpret_cast<std::uintptr_t>(fn); }

// ---- framing -----------------------------------------------------------------------------------

/// Writes all of `parts` as one frame. False if the peer is gone.
bool write_frame(int fd, std::initializer_list<std::string_view> parts) {
  std::uint32_t length = 0;
  for (auto p : parts) length += static_cast<std::uint32_t>(p.size());
  std::vector<iovec> iov;
  iov.push_back({&length, sizeof length});
  for (auto p : parts) iov.push_back({const_cast<char*>(p.data()), p.size()});
  std::size_t first = 0;
  while (first < iov.size()) {
    msghdr msg{};
    msg.msg_iov = iov.data() + first;
    msg.msg_iovlen = iov.size() - first;
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto left = static_cast<std::size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (first < iov.size()) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return true;
}

/// Buffers what arrives on a socket and cuts it into frames, so that a reply usually costs one
/// read() whatever its size.
class FrameReader {
 public:
  enum class Status { ok, eof, error };

  /// One read() of what is available (blocks if nothing is). eof: the peer closed between
  /// frames; error: it closed inside one, or the read failed.
  Status fill(int fd) {
    if (buffer_.size() - end_ < kChunk) {
      // Move the unread part to the front, then make room.
      buffer_.erase(0, begin_);
      end_ -= begin_;
      begin_ = 0;
      buffer_.resize(std::max(buffer_.size(), end_ + kChunk));
    }
    for (;;) {
      ssize_t n = ::read(fd, buffer_.data() + end_, buffer_.size() - end_);
      if (n > 0) {
        end_ += static_cast<std::size_t>(n);
        return Status::ok;
      }
      if (n == 0) return begin_ == end_ ? Status::eof : Status::error;
      if (errno != EINTR) return Status::error;
    }
  }

  /// The next complete frame's body, if one has arrived (valid until the next fill()).
  std::optional<std::string_view> next() {
    std::uint32_t length = 0;
    if (end_ - begin_ < sizeof length) return std::nullopt;
    std::memcpy(&length, buffer_.data() + begin_, sizeof length);
    if (end_ - begin_ - sizeof length < length) {
      if (buffer_.size() < begin_ + sizeof length + length) buffer_.resize(begin_ + sizeof length + length);
      return std::nullopt;
    }
    std::string_view body(buffer_.data() + begin_ + sizeof length, length);
    begin_ += sizeof length + length;
    return body;
  }

  /// Blocks until a whole frame has arrived.
  Status read_frame(int fd, std::string_view& body) {
    for (;;) {
      if (auto frame = next()) {
        body = *frame;
        return Status::ok;
      }
      if (auto status = fill(fd); status != Status::ok) return status;
    }
  }

 private:
  static constexpr std::size_t kChunk = 64 * 1024;
  std::string buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

template <class T>
std::string_view bytes_of(const T& value) {
  return {reinterpret_cast<const char*>(&value), sizeof value};
}

// ---- the worker --------------------------------------------------------------------------------

void flush_output() {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
}

[[noreturn]] void serve(int fd) {
  FrameReader reader_;
  std::string_view body;
  for (;;) {
    auto status = reader_.read_frame(fd, body);
    if (status != FrameReader::Status::ok) {  // the pool closed our socket, or the parent died
      flush_output();
      ::_exit(status == FrameReader::Status::eof ? 0 : 1);
    }
    std::uint64_t id = 0;
    std::string result, type, message;
    bool ok = false;
    try {
      detail::WireReader reader(body, "process pool");
      if (reader.get<std::uint8_t>() != kCall) throw std::runtime_error("process pool: bad request");
      id = reader.get<std::uint64_t>();
      auto name = reader.get_string();
      result = detail::run_registered_function(name, reader.rest());
      if (result.size() > kMaxPayload)
        throw std::length_error(fmt::format("the result of '{}' is too large to send ({} bytes)",
                                            name, result.size()));
      ok = true;
    } catch (...) {
      auto e = std::current_exception();
      type = detail::cxx_exception_type(e);
      message = exception_message(e);
    }
    flush_output();
    bool sent;
    if (ok) {
      sent = write_frame(fd, {bytes_of(kResult), bytes_of(id), result});
    } else {
      auto type_length = static_cast<std::uint32_t>(type.size());
      sent = write_frame(fd, {bytes_of(kError), bytes_of(id), bytes_of(type_length), type, message});
    }
    if (!sent) ::_exit(0);
  }
}

// ---- the worker start: process_pool_worker_main, first thing in main ----------------------------

constexpr const char* kWorkerArgument = "--asyncio-process-pool-worker";

/// Set during static initialisation by an MpiPoolExecutor worker rank.
void (*worker_rank_server)() = nullptr;

/// The descriptor a pool gave this process, if it started it: both the argument and the
/// variable, so that neither alone (an inherited environment, a stray argument) makes a worker.
std::optional<int> worker_fd(int argc, char** argv) {
  if (argc < 2 || !argv || !argv[1] || std::strcmp(argv[1], kWorkerArgument) != 0) return std::nullopt;
  const char* value = std::getenv(kWorkerVariable);
  if (!value || std::string_view(value) != std::to_string(kWorkerFd)) return std::nullopt;
  return kWorkerFd;
}

}  // namespace

void process_pool_worker_main(int argc, char** argv) {
  if (auto fd = worker_fd(argc, argv)) {
    ::unsetenv(kWorkerVariable);  // a pool created by a worker's call spawns normally
    serve(*fd);
  }
  if (worker_rank_server) worker_rank_server();  // never returns
}

namespace detail {

void set_worker_rank_server(void (*serve)()) { worker_rank_server = serve; }

std::string run_registered_function(std::string_view name, std::string_view args) {
  RegisteredFunction entry{};
  {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.by_name.find(name);
    if (it == r.by_name.end())
      throw std::invalid_argument(fmt::format(
          "function '{}' is not registered in the worker process (register it at namespace "
          "scope with ASYNCIO_REGISTER_PROCESS_FUNCTION, not inside main)",
          name));
    entry = it->second;
  }
  return entry.invoker(entry.fn, args);
}

bool register_process_function_erased(std::string_view name, ErasedFunction fn,
                                      ProcessInvoker invoker, ErasedProcessSubmit submit) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto [it, inserted] = r.by_name.try_emplace(std::string(name), RegisteredFunction{fn, invoker, submit});
  if (!inserted && it->second.fn != fn) {
    std::fprintf(stderr,
                 "asyncio: two different functions registered for process pools as '%.*s'; "
                 "use ASYNCIO_REGISTER_PROCESS_FUNCTION_AS to give one another name\n",
                 static_cast<int>(name.size()), name.data());
    std::abort();
  }
  r.by_function.try_emplace(key(fn), it->first);
  return true;
}

std::string_view process_function_name(ErasedFunction fn) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.by_function.find(key(fn));
  if (it == r.by_function.end()) throw std::invalid_argument(kNotRegistered);
  return it->second;
}

ErasedProcessSubmit process_pool_submitter(AbstractExecutor& executor, ErasedFunction fn) {
  if (!dynamic_cast<ProcessPoolExecutor*>(&executor)) return nullptr;
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.by_function.find(key(fn));
  if (it == r.by_function.end()) throw std::invalid_argument(kNotRegistered);
  return r.by_name.find(it->second)->second.submit;
}

}  // namespace detail

// ---- the pool ----------------------------------------------------------------------------------

namespace {

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  std::unique_ptr<FrameReader> reader = std::make_unique<FrameReader>();
  std::unique_ptr<detail::ProcessCall> call;  // in flight, or null when idle
  std::uint64_t call_id = 0;
};

std::string describe_status(pid_t pid, int status) {
  if (WIFSIGNALED(status))
    return fmt::format("worker {} was killed by signal {} ({})", pid, WTERMSIG(status),
                       ::strsignal(WTERMSIG(status)));
  if (WIFEXITED(status))
    return fmt::format("worker {} exited with status {}", pid, WEXITSTATUS(status));
  return fmt::format("worker {} ended", pid);
}

/// Reaps `pid`; returns its wait status, or -1 if someone else reaped it (SIGCHLD ignored).
int reap(pid_t pid) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, 0);
    if (r == pid) return status;
    if (r < 0 && errno == EINTR) continue;
    return -1;
  }
}

/// This program's path, resolved once: spawning "/proc/self/exe" itself would
/// start whatever the kernel runs, valgrind's tool under valgrind, whereas
/// valgrind answers readlink for its client (issue 8, defect 14).
const std::string& self_executable() {
  static const std::string path = [] {
    std::string buf(4096, '\0');
    ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size());
    if (n <= 0 || static_cast<std::size_t>(n) >= buf.size()) return std::string("/proc/self/exe");
    buf.resize(static_cast<std::size_t>(n));
    return buf;
  }();
  return path;
}

/// True in a process a pool started (the argument and the variable) whose main() did not call
/// process_pool_worker_main, which removes the variable: it must not start workers of its own.
bool unserved_worker() {
  if (!std::getenv(kWorkerVariable)) return false;
  std::string cmdline(4096, '\0');
  int fd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::read(fd, cmdline.data(), cmdline.size());
  ::close(fd);
  cmdline.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  auto first_end = cmdline.find('\0');  // argv[0], then argv[1]
  if (first_end == std::string::npos) return false;
  return std::string_view(cmdline).substr(first_end + 1).starts_with(
      std::string_view(kWorkerArgument, std::strlen(kWorkerArgument) + 1));  // with its NUL
}

/// Starts this program (self_executable()) in worker mode; returns the worker with the parent's end of its socket.
Worker spawn_worker() {
  if (unserved_worker())  // a worker whose main() did not hand it over: never recurse
    throw BrokenProcessPool(
        "An attempt has been made to start a new process before the current process has "
        "finished its bootstrapping phase: this process is a process pool worker whose main() "
        "did not call asyncio::process_pool_worker_main(argc, argv) first (Python's "
        "`if __name__ == \"__main__\":` rule)");
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw std::system_error(errno, std::generic_category(), "socketpair");

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  // The child's end becomes fd 3 (dup2 onto itself clears close-on-exec); stdin is /dev/null;
  // nothing else of ours leaks into the worker. Signal mask and dispositions start clean.
  posix_spawn_file_actions_adddup2(&actions, sv[1], kWorkerFd);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&actions, kWorkerFd + 1);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> env_storage;
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, kWorkerVariable, std::strlen(kWorkerVariable)) != 0)
      env_storage.emplace_back(*e);
  env_storage.push_back(fmt::format("{}={}", kWorkerVariable, kWorkerFd));
  std::vector<char*> envp;
  for (auto& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string arg0 = program_invocation_name ? program_invocation_name : "asyncio-worker";
  std::string arg1 = kWorkerArgument;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};

  pid_t pid = -1;
  const std::string& exe = self_executable();
  int err = ::posix_spawn(&pid, exe.c_str(), &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(sv[1]);
  if (err != 0) {
    ::close(sv[0]);
    throw std::system_error(err, std::generic_category(), "posix_spawn " + exe);
  }
  Worker w;
  w.pid = pid;
  w.fd = sv[0];
  return w;
}

}  // namespace

/// Shared by the executor and its manager thread.
///
/// Invariants: `queue`, `shutdown`, `broken`, `pids`, `in_flight` are guarded by `mutex`;
/// `workers` belongs to the manager thread alone. A call is in `queue` (pending) or in exactly
/// one worker's `call` (running) until its future is completed outside the lock. Once `broken`
/// is set nothing is queued again and the manager has exited or is exiting.
struct ProcessPoolExecutor::State {
  std::mutex mutex;
  std::deque<std::unique_ptr<detail::ProcessCall>> queue;
  bool shutdown = false;
  std::string broken;
  std::vector<pid_t> pids;
  std::size_t in_flight = 0;
  std::size_t max_workers = 0;

  detail::ManagerThread manager;  // started by the first submit, under `mutex`

  std::vector<Worker> workers;  // manager thread only
  std::uint64_t next_id = 1;    // manager thread only

  void run_manager();
  bool dispatch();
  void complete(Worker& w, std::string_view body);
  void break_pool(const std::string& cause);
  void close_workers();
};

/// Sends queued calls to idle workers, starting workers as needed. False if the pool broke.
bool ProcessPoolExecutor::State::dispatch() {
  for (;;) {
    std::vector<std::unique_ptr<detail::ProcessCall>> dropped;  // cancelled before they ran
    Worker* target = nullptr;
    bool need_worker = false;
    {
      std::lock_guard lock(mutex);
      auto idle = std::find_if(workers.begin(), workers.end(), [](auto& w) { return !w.call; });
      while (!queue.empty()) {
        if (idle == workers.end() && !queue.front()->core().cancelled()) {
          need_worker = workers.size() < max_workers;
          break;
        }
        auto call = std::move(queue.front());
        queue.pop_front();
        if (!call->core().set_running_or_notify_cancel()) {
          dropped.push_back(std::move(call));
          continue;
        }
        idle->call = std::move(call);
        idle->call_id = next_id++;
        auto& job = idle->call->core().job;
        job.in_process = true;
        job.worker = static_cast<std::uint32_t>(idle->pid);
        job.what = idle->call->function.data();  // registry names are NUL-terminated and live forever
        job.start_ns = detail::steady_now_ns();
        ++in_flight;
        target = &*idle;
        break;
      }
    }
    dropped.clear();
    if (target) {
      auto id = target->call_id;
      auto name_length = static_cast<std::uint32_t>(target->call->function.size());
      if (!write_frame(target->fd, {bytes_of(kCall), bytes_of(id), bytes_of(name_length),
                                    target->call->function, target->call->args})) {
        ::close(target->fd);
        target->fd = -1;
        int status = reap(target->pid);
        auto cause = status < 0 ? fmt::format("worker {} ended", target->pid)
                                : describe_status(target->pid, status);
        target->pid = -1;
        break_pool(cause);
        return false;
      }
      target->call->args.clear();
      target->call->args.shrink_to_fit();
      continue;
    }
    if (!need_worker) return true;
    try {
      Worker w = spawn_worker();
      std::lock_guard lock(mutex);
      pids.push_back(w.pid);
      workers.push_back(std::move(w));
    } catch (const std::exception& e) {
      break_pool(fmt::format("cannot start a worker: {}", e.what()));
      return false;
    }
  }
}

void ProcessPoolExecutor::State::complete(Worker& w, std::string_view body) {
  auto call = std::move(w.call);
  call->core().job.end_ns = detail::steady_now_ns();
  {
    std::lock_guard lock(mutex);
    --in_flight;
  }
  try {
    detail::WireReader reader(body, "process pool");
    auto kind = reader.get<std::uint8_t>();
    auto id = reader.get<std::uint64_t>();
    if (id != w.call_id) throw std::runtime_error("process pool: reply to the wrong call");
    if (kind == kResult) {
      call->set_result_bytes(reader.rest());
    } else {
      auto type = std::string(reader.get_string());
      call->core().set_exception_if_pending(
          std::make_exception_ptr(RemoteError(std::move(type), std::string(reader.rest()))));
    }
  } catch (...) {
    call->core().set_exception_if_pending(std::current_exception());
  }
}

void ProcessPoolExecutor::State::close_workers() {
  for (auto& w : workers) {
    if (w.fd >= 0) ::close(w.fd);
    w.fd = -1;
  }
  for (auto& w : workers)
    if (w.pid > 0) reap(w.pid);
  std::lock_guard lock(mutex);
  pids.clear();
  workers.clear();
}

/// process.py terminate_broken: fail every pending call, kill the other workers.
void ProcessPoolExecutor::State::break_pool(const std::string& cause) {
  std::deque<std::unique_ptr<detail::ProcessCall>> queued;
  {
    std::lock_guard lock(mutex);
    broken = "A child process terminated abruptly, the process pool is not usable anymore";
    queued.swap(queue);
    in_flight = 0;
  }
  for (auto& w : workers)
    if (w.pid > 0) ::kill(w.pid, SIGKILL);
  std::vector<std::unique_ptr<detail::ProcessCall>> running;
  for (auto& w : workers)
    if (w.call) running.push_back(std::move(w.call));
  close_workers();
  auto error = std::make_exception_ptr(BrokenProcessPool(
      "A process in the process pool was terminated abruptly while the future was running or "
      "pending. (" +
      cause + ")"));
  for (auto& call : running) call->core().set_exception_if_pending(error);
  for (auto& call : queued) call->core().set_exception_if_pending(error);
}

void ProcessPoolExecutor::State::run_manager() {
  std::vector<pollfd> fds;
  for (;;) {
    if (!dispatch()) return;
    {
      std::lock_guard lock(mutex);
      bool idle = std::none_of(workers.begin(), workers.end(), [](auto& w) { return !!w.call; });
      if (shutdown && queue.empty() && idle) break;
    }
    fds.clear();
    fds.push_back({manager.wake_fd(), POLLIN, 0});
    for (auto& w : workers) fds.push_back({w.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break_pool(fmt::format("poll: {}", std::strerror(errno)));
      return;
    }
    if (fds[0].revents) manager.drain();
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      Worker& w = workers[i - 1];
      bool alive = w.reader->fill(w.fd) == FrameReader::Status::ok;
      std::optional<std::string_view> reply;
      if (alive) {
        reply = w.reader->next();
        if (!reply) continue;  // the rest of the frame is on its way
      }
      if (!alive || !w.call) {
        // Dead (or talking out of turn): its call, if any, fails with the others.
        ::close(w.fd);
        w.fd = -1;
        int status = reap(w.pid);
        auto cause = status < 0 ? fmt::format("worker {} ended", w.pid) : describe_status(w.pid, status);
        w.pid = -1;
        break_pool(cause);
        return;
      }
      complete(w, *reply);
    }
  }
  close_workers();
}

ProcessPoolExecutor::ProcessPoolExecutor(std::size_t max_workers)
    : state_(std::make_shared<State>()) {
  state_->max_workers =
      max_workers ? max_workers : std::max(1u, std::thread::hardware_concurrency());
}

ProcessPoolExecutor::~ProcessPoolExecutor() {
  shutdown(true);
  state_->manager.detach();
}

std::size_t ProcessPoolExecutor::max_workers() const noexcept { return state_->max_workers; }

std::vector<pid_t> ProcessPoolExecutor::worker_pids() const {
  std::lock_guard lock(state_->mutex);
  return state_->pids;
}

void ProcessPoolExecutor::submit_call(std::unique_ptr<detail::ProcessCall> call) {
  if (call->args.size() > kMaxPayload)
    throw std::length_error(fmt::format("ProcessPoolExecutor: the arguments of '{}' are too large "
                                        "to send ({} bytes)",
                                        call->function, call->args.size()));
  auto& s = *state_;
  bool wake;
  {
    std::lock_guard lock(s.mutex);
    if (!s.broken.empty()) throw BrokenProcessPool(s.broken);
    if (s.shutdown) throw RuntimeError("cannot schedule new futures after shutdown");
    if (!s.manager.started()) s.manager.start("ProcessPoolMgr", [state = state_] { state->run_manager(); });
    // The manager sleeps only with an empty queue or with every worker busy (a reply wakes
    // it then): only the first queued call needs to wake it.
    wake = s.queue.empty();
    s.queue.push_back(std::move(call));
  }
  if (wake) s.manager.wake();
}

void ProcessPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  auto& s = *state_;
  std::deque<std::unique_ptr<detail::ProcessCall>> cancelled;
  bool started;
  {
    std::lock_guard lock(s.mutex);
    s.shutdown = true;
    if (cancel_futures) cancelled.swap(s.queue);
    started = s.manager.started();
  }
  for (auto& call : cancelled) call->core().cancel();
  cancelled.clear();
  if (started) s.manager.wake();
  if (wait) s.manager.join();
}

std::ostream& operator<<(std::ostream& os, const ProcessPoolExecutor& pool) {
  auto& s = *pool.state_;
  std::lock_guard lock(s.mutex);
  const char* state = !s.broken.empty() ? "broken" : s.shutdown ? "shutdown" : "running";
  return os << "<ProcessPoolExecutor max_workers=" << s.max_workers
            << " processes=" << s.pids.size() << " running=" << s.in_flight
            << " queued=" << s.queue.size() << " state=" << state << '>';
}

}  // namespace asyncio
