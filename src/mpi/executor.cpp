// MpiPoolExecutor (include/asyncio/mpi/executor.hpp): start-up of every rank during static
// initialisation, the worker ranks' serving loop, and rank 0's bridge thread.
//
// Messages, on MPI_COMM_WORLD as MPI_BYTE (integers in host order: one architecture):
//   call   rank 0 -> worker, tag kTagCall:  u64 batch id, u32 name length, name, u32 count,
//                                            count x (u32 length, serialized argument tuple)
//   reply  worker -> rank 0, tag kTagReply: u64 batch id, u32 count, count x (u8 kind,
//          u32 length, bytes): kind 1 the serialized result, kind 2 (u32 type length,
//          demangled exception type, what())
//   exit   rank 0 -> worker, tag kTagExit:  empty; the worker calls MPI_Finalize and exits.
// A worker serves one batch at a time, in the order they arrive (MPI keeps the order of
// messages between two ranks). Liveness travels outside MPI: see World::connect_liveness.
#include "asyncio/mpi/executor.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mpi.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "../manager_thread.hpp"
#include "../wire_reader.hpp"

namespace asyncio {
namespace {

constexpr int kTagCall = 1, kTagReply = 2, kTagExit = 3;
constexpr std::uint8_t kResult = 1, kError = 2;
constexpr std::size_t kMaxMessage = static_cast<std::size_t>(std::numeric_limits<int>::max());

// ---- messages ------------------------------------------------------------------------------------

class Writer {
 public:
  template <class T>
  Writer& put(T value) {
    out.append(reinterpret_cast<const char*>(&value), sizeof value);
    return *this;
  }
  Writer& put_string(std::string_view s) {
    put(static_cast<std::uint32_t>(s.size()));
    out.append(s);
    return *this;
  }
  std::string out;
};


// ---- waiting without spinning --------------------------------------------------------------------

/// The polling interval: 0 for a few rounds after activity, then 20 us doubling up to 1 ms.
class Backoff {
 public:
  void reset() noexcept { rounds_ = 0; }
  timespec next() noexcept {
    std::int64_t ns = 0;
    if (rounds_ >= kSpins) ns = std::min<std::int64_t>(kFirstNs << std::min(rounds_ - kSpins, 6), kMaxNs);
    ++rounds_;
    return {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  }

 private:
  static constexpr int kSpins = 4;
  static constexpr std::int64_t kFirstNs = 20'000, kMaxNs = 1'000'000;
  int rounds_ = 0;
};

/// True if the liveness socket `fd` reports its peer gone (end of file or error). -1: unknown.
bool peer_gone(int fd) {
  if (fd < 0) return false;
  char byte;
  for (;;) {
    ssize_t n = ::recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
    if (n > 0) return false;  // nobody writes on these sockets; ignore stray bytes
    if (n == 0) return true;
    if (errno == EINTR) continue;
    return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

/// Waits until `fds` have something to say or `timeout` passes (null: forever).
void wait_fds(std::vector<pollfd>& fds, const timespec* timeout) {
  if (fds.empty() && timeout == nullptr) return;
  if (::ppoll(fds.data(), fds.size(), timeout, nullptr) < 0 && errno != EINTR)
    throw std::system_error(errno, std::generic_category(), "ppoll");
}

/// Completes `request`, polling, as long as the peer on liveness socket `peer_fd` lives. False
/// if the peer died first (the request is then abandoned, and `keep_alive`'s buffer kept).
bool wait_request(MPI_Request& request, int peer_fd, std::string* keep_alive) {
  Backoff backoff;
  std::vector<pollfd> fds;
  for (;;) {
    int done = 0;
    if (MPI_Test(&request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return false;
    if (done) return true;
    if (peer_gone(peer_fd)) {
      // MPI may still touch the buffer of an abandoned request: keep it for the process's life.
      static std::mutex mutex;
      static std::vector<std::string> abandoned;
      if (keep_alive) {
        std::lock_guard lock(mutex);
        abandoned.push_back(std::move(*keep_alive));
      }
      return false;
    }
    fds.assign(peer_fd >= 0 ? 1 : 0, pollfd{peer_fd, POLLIN, 0});
    auto timeout = backoff.next();
    wait_fds(fds, &timeout);
  }
}

/// Sends `message` to `rank` without blocking in MPI; false if the rank died first.
bool send_to(int rank, int tag, std::string& message, int peer_fd) {
  if (message.size() > kMaxMessage)
    throw std::length_error(fmt::format("MpiPoolExecutor: a message of {} bytes is too large", message.size()));
  MPI_Request request;
  if (MPI_Isend(message.data(), static_cast<int>(message.size()), MPI_BYTE, rank, tag, MPI_COMM_WORLD,
                &request) != MPI_SUCCESS)
    return false;
  return wait_request(request, peer_fd, &message);
}

/// Receives the message `status` announced (after MPI_Iprobe); false if its sender died first.
bool receive(const MPI_Status& status, std::string& out, int peer_fd) {
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  out.resize(static_cast<std::size_t>(count));
  MPI_Request request;
  if (MPI_Irecv(out.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
                &request) != MPI_SUCCESS)
    return false;
  return wait_request(request, peer_fd, &out);
}

void flush_output() {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
}

// ---- the world: every rank's start-up and end ----------------------------------------------------

const char* launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const char* value = std::getenv(name)) return value;
  return nullptr;
}

/// MPI_COMM_WORLD as this process sees it.
///
/// Invariants: initialised only during static initialisation of a program started by mpirun;
/// on rank 0, `liveness[r]` is worker r's liveness socket (-1 if it could not connect) and
/// `dead[r]` is set, by the bridge thread, once worker r's death was seen. `pool_exists` is
/// true while an MpiPoolExecutor object or its bridge thread exists (one at a time: MPI
/// calls must be serialized).
struct World {
  bool initialised = false;
  int rank = 0;
  int size = 1;
  std::vector<int> liveness;  // rank 0: per worker rank
  std::vector<char> dead;     // rank 0: per worker rank
  int root_liveness = -1;     // a worker: its socket to rank 0
  std::atomic<bool> pool_exists = false;
  std::atomic<bool> bridge_running = false;

  void connect_liveness();
};

World& world() {
  static World w;
  return w;
}

int make_socket() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  return fd;
}

/// Each worker opens a TCP connection to rank 0 and never writes on it: when a worker dies,
/// on whatever node, its kernel closes the connection and rank 0 reads end of file (and the
/// other way round). OpenMPI 4 tells the surviving ranks nothing about a dead peer, so this is
/// how the pool notices. Collective: every rank takes part. A worker that cannot connect
/// (firewall, unresolvable host name) goes on without: its death is then not noticed.
void World::connect_liveness() {
  struct Address {
    std::uint16_t port = 0;
    char host[256] = {};
  } address;
  int listener = -1;
  if (rank == 0) {
    try {
      listener = make_socket();
      sockaddr_in any{};
      any.sin_family = AF_INET;
      any.sin_addr.s_addr = htonl(INADDR_ANY);
      socklen_t length = sizeof any;
      if (::bind(listener, reinterpret_cast<sockaddr*>(&any), sizeof any) == 0 &&
          ::listen(listener, SOMAXCONN) == 0 &&
          ::getsockname(listener, reinterpret_cast<sockaddr*>(&any), &length) == 0 &&
          ::gethostname(address.host, sizeof address.host - 1) == 0)
        address.port = ntohs(any.sin_port);
    } catch (const std::exception&) {
    }
  }
  MPI_Bcast(&address, sizeof address, MPI_BYTE, 0, MPI_COMM_WORLD);

  int connected = 0;
  if (rank != 0 && address.port != 0) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    auto port = std::to_string(address.port);
    // Our own host name may resolve to an address we do not listen on (127.0.1.1): try the
    // loopback first when rank 0 is on this node.
    char here[256] = {};
    ::gethostname(here, sizeof here - 1);
    const char* host = std::strcmp(here, address.host) == 0 ? "127.0.0.1" : address.host;
    if (::getaddrinfo(host, port.c_str(), &hints, &found) == 0) {
      for (auto* a = found; a && !connected; a = a->ai_next) {
        int fd = make_socket();
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
          std::int32_t me = rank;
          if (::send(fd, &me, sizeof me, MSG_NOSIGNAL) == sizeof me) {
            root_liveness = fd;
            connected = 1;
            continue;
          }
        }
        ::close(fd);
      }
      ::freeaddrinfo(found);
    }
    if (!connected)
      std::fprintf(stderr, "asyncio: MPI rank %d could not connect to rank 0 (%s:%u); its death "
                           "will not be noticed\n", rank, address.host, address.port);
  }
  std::vector<int> flags(rank == 0 ? static_cast<std::size_t>(size) : 0);
  MPI_Gather(&connected, 1, MPI_INT, flags.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    liveness.assign(static_cast<std::size_t>(size), -1);
    dead.assign(static_cast<std::size_t>(size), 0);
    // Every connection that counted itself in is already in the listen backlog with its rank.
    const auto expected = std::count(flags.begin(), flags.end(), 1);
    for (long i = 0; i < expected; ++i) {
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) break;
      std::int32_t who = -1;
      if (::recv(fd, &who, sizeof who, MSG_WAITALL) == sizeof who && who > 0 && who < size) {
        liveness[static_cast<std::size_t>(who)] = fd;
      } else {
        ::close(fd);
      }
    }
    if (listener >= 0) ::close(listener);
  }
}

/// Rank 0's atexit handler: tells every live worker to exit, then finalises MPI.
void end_world() {
  auto& w = world();
  if (!w.initialised) return;
  if (w.bridge_running) {
    // An executor outlived main (a global, or detached): MPI is in use on another thread.
    std::fprintf(stderr, "asyncio: an MpiPoolExecutor is still running at exit; MPI is not "
                         "finalised and mpirun may report it\n");
    return;
  }
  bool any_dead = false;
  for (int r = 1; r < w.size; ++r) {
    std::string empty;
    if (!w.dead[static_cast<std::size_t>(r)])
      send_to(r, kTagExit, empty, w.liveness[static_cast<std::size_t>(r)]);
    else
      any_dead = true;
  }
  // With a rank dead (mpirun --enable-recovery), MPI_Finalize may wait forever for it in
  // OpenMPI 4's closing fence: exit without it (the live workers finalise and exit).
  if (any_dead) return;
  MPI_Finalize();
  w.initialised = false;
}

// ---- a worker rank -------------------------------------------------------------------------------

std::string run_batch(std::string_view body) {
  detail::WireReader reader(body, "MpiPoolExecutor");
  auto id = reader.get<std::uint64_t>();
  auto name = reader.get_string();
  auto count = reader.get<std::uint32_t>();
  Writer reply;
  reply.put(id).put(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    auto args = reader.get_string();
    try {
      auto result = detail::run_registered_function(name, args);
      reply.put(kResult).put_string(result);
    } catch (...) {
      auto e = std::current_exception();
      Writer error;
      error.put_string(detail::cxx_exception_type(e));
      error.out += exception_message(e);
      reply.put(kError).put_string(error.out);
    }
  }
  return std::move(reply.out);
}

[[noreturn]] void serve() {
  auto& w = world();
  Backoff backoff;
  std::string message;
  std::vector<pollfd> fds;
  for (;;) {
    int arrived = 0;
    MPI_Status status;
    MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &arrived, &status);
    if (arrived) {
      if (!receive(status, message, w.root_liveness)) break;
      if (status.MPI_TAG == kTagExit) {
        flush_output();
        MPI_Finalize();
        ::_exit(0);
      }
      std::string reply;
      try {
        reply = run_batch(message);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "asyncio: MPI rank %d: bad request: %s\n", w.rank, e.what());
        break;
      }
      flush_output();
      if (!send_to(0, kTagReply, reply, w.root_liveness)) break;
      backoff.reset();
      continue;
    }
    if (peer_gone(w.root_liveness)) break;
    fds.assign(w.root_liveness >= 0 ? 1 : 0, pollfd{w.root_liveness, POLLIN, 0});
    auto timeout = backoff.next();
    wait_fds(fds, &timeout);
  }
  // Rank 0 is gone (or spoke nonsense): nobody is left to finalise with.
  flush_output();
  ::_exit(1);
}

}  // namespace
}  // namespace asyncio

// ---- start-up: during static initialisation, on every rank started by mpirun --------------------
namespace {

__attribute__((constructor)) void asyncio_mpi_entry(int argc, char** argv) {
  using asyncio::world;
  if (!asyncio::launcher_rank()) return;
  // A ProcessPoolExecutor worker started by a rank inherits mpirun's environment, but it is not
  // a rank: the process pool starts it with this argument and the variable.
  if (std::getenv("ASYNCIO_PROCESS_POOL_WORKER") ||
      (argc > 1 && std::strcmp(argv[1], "--asyncio-process-pool-worker") == 0))
    return;
  auto& w = world();
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) return;
  w.initialised = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &w.size);
  if (provided < MPI_THREAD_SERIALIZED) {
    std::fprintf(stderr, "asyncio: this MPI library does not support MPI_THREAD_SERIALIZED\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  w.connect_liveness();
  if (w.rank == 0) {
    std::atexit(asyncio::end_world);
    return;  // rank 0 goes on to main()
  }
  // A worker rank serves from the top of main (asyncio::process_pool_worker_main), once every
  // registration of the program has been made.
  asyncio::detail::set_worker_rank_server(&asyncio::serve);
}

}  // namespace

namespace asyncio {

int mpi::rank() noexcept { return world().rank; }
int mpi::world_size() noexcept { return world().size; }

// ---- rank 0: the pool and its bridge thread ------------------------------------------------------

/// Shared by the executor and its bridge thread.
///
/// Invariants: `queue`, `shutdown`, `broken`, `in_flight` are guarded by `mutex`; `workers`
/// and every MPI call belong to the bridge thread. A call is queued (pending), in exactly one
/// worker's batch (running), or done. Once `broken` is set nothing is queued again; the
/// bridge still collects the replies of live workers (so that they can exit cleanly), and
/// drops them.
struct MpiPoolExecutor::State {
  struct Worker {
    int rank = 0;
    std::optional<detail::MpiBatch> batch;  // in flight, or empty when idle
    std::uint64_t batch_id = 0;
    int liveness() const { return world().liveness[static_cast<std::size_t>(rank)]; }
  };

  std::mutex mutex;
  std::deque<detail::MpiBatch> queue;
  bool shutdown = false;
  std::string broken;
  std::size_t in_flight = 0;  // batches
  std::size_t max_workers = 0;

  detail::ManagerThread bridge;  // started by the constructor

  std::vector<Worker> workers;  // bridge thread only
  std::uint64_t next_id = 1;    // bridge thread only

  void run_bridge();
  bool dispatch();
  bool collect_replies();
  void complete(Worker& w, std::string_view body);
  void break_pool(const std::string& cause);
  std::size_t in_flight_batches() const {
    return static_cast<std::size_t>(std::count_if(workers.begin(), workers.end(), [](auto& w) { return w.batch.has_value(); }));
  }
  bool busy() const {
    return std::any_of(workers.begin(), workers.end(), [](auto& w) { return w.batch.has_value(); });
  }
};

namespace {

/// Keeps the calls of `batch` that were not cancelled, marking them running. False if none is left.
bool start_calls(detail::MpiBatch& batch) {
  std::erase_if(batch.calls, [](auto& call) { return !call->core().set_running_or_notify_cancel(); });
  return !batch.calls.empty();
}

std::string encode_call(std::uint64_t id, const detail::MpiBatch& batch) {
  Writer w;
  w.put(id).put_string(batch.function).put(static_cast<std::uint32_t>(batch.calls.size()));
  for (auto& call : batch.calls) w.put_string(call->args);
  return std::move(w.out);
}

}  // namespace

/// Sends queued batches to idle workers. False if the pool broke.
bool MpiPoolExecutor::State::dispatch() {
  for (;;) {
    Worker* target = nullptr;
    {
      std::lock_guard lock(mutex);
      if (!broken.empty()) return false;
      auto idle = std::find_if(workers.begin(), workers.end(), [](auto& w) { return !w.batch; });
      while (!queue.empty() && idle != workers.end()) {
        auto batch = std::move(queue.front());
        queue.pop_front();
        if (!start_calls(batch)) continue;  // every call was cancelled
        idle->batch = std::move(batch);
        idle->batch_id = next_id++;
        for (auto& call : idle->batch->calls) {
          auto& job = call->core().job;
          job.in_process = true;
          job.worker = static_cast<std::uint32_t>(idle->rank);
          job.what = call->function.data();
          job.start_ns = detail::steady_now_ns();
        }
        ++in_flight;
        target = &*idle;
        break;
      }
    }
    if (!target) return true;
    auto message = encode_call(target->batch_id, *target->batch);
    for (auto& call : target->batch->calls) {
      call->args.clear();
      call->args.shrink_to_fit();
    }
    if (!send_to(target->rank, kTagCall, message, target->liveness())) {
      world().dead[static_cast<std::size_t>(target->rank)] = 1;
      break_pool(fmt::format("MPI rank {} ended", target->rank));
      return false;
    }
  }
}

void MpiPoolExecutor::State::complete(Worker& w, std::string_view body) {
  auto batch = std::move(*w.batch);
  w.batch.reset();
  bool counted;
  {
    std::lock_guard lock(mutex);
    counted = broken.empty();
    if (counted) --in_flight;
  }
  const auto end = detail::steady_now_ns();
  for (auto& call : batch.calls) call->core().job.end_ns = end;
  try {
    detail::WireReader reader(body, "MpiPoolExecutor");
    if (reader.get<std::uint64_t>() != w.batch_id) throw std::runtime_error("MpiPoolExecutor: reply to the wrong call");
    auto count = reader.get<std::uint32_t>();
    if (count != batch.calls.size()) throw std::runtime_error("MpiPoolExecutor: reply with the wrong count");
    for (auto& call : batch.calls) {
      auto kind = reader.get<std::uint8_t>();
      auto bytes = reader.get_string();
      if (kind == kResult) {
        call->set_result_bytes(bytes);
      } else {
        detail::WireReader error(bytes, "MpiPoolExecutor");
        auto type = std::string(error.get_string());
        auto message = std::string(bytes.substr(sizeof(std::uint32_t) + type.size()));
        call->core().set_exception_if_pending(
            std::make_exception_ptr(RemoteError(std::move(type), std::move(message))));
      }
    }
  } catch (...) {
    auto error = std::current_exception();
    for (auto& call : batch.calls) call->core().set_exception_if_pending(error);
  }
}

/// Receives every reply that has arrived. False if a worker died on the way.
bool MpiPoolExecutor::State::collect_replies() {
  std::string body;
  for (;;) {
    int arrived = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, kTagReply, MPI_COMM_WORLD, &arrived, &status);
    if (!arrived) return true;
    auto it = std::find_if(workers.begin(), workers.end(),
                           [&](auto& w) { return w.rank == status.MPI_SOURCE; });
    if (it == workers.end()) {  // a reply for an earlier pool: cannot happen, as each pool drains
      if (!receive(status, body, world().liveness[static_cast<std::size_t>(status.MPI_SOURCE)])) return false;
      continue;
    }
    if (!receive(status, body, it->liveness())) {
      world().dead[static_cast<std::size_t>(it->rank)] = 1;
      break_pool(fmt::format("MPI rank {} ended while sending its reply", it->rank));
      return false;
    }
    if (it->batch) complete(*it, body);
  }
}

/// process.py terminate_broken, for ranks: fail every pending call. Live workers are not
/// killed (they are not ours to kill); the bridge drains their replies.
void MpiPoolExecutor::State::break_pool(const std::string& cause) {
  std::deque<detail::MpiBatch> queued;
  {
    std::lock_guard lock(mutex);
    if (broken.empty())
      broken = "A worker rank terminated abruptly, the MPI pool is not usable anymore";
    queued.swap(queue);
    in_flight = 0;
  }
  auto error = std::make_exception_ptr(BrokenMpiPool(
      "A worker rank of the MPI pool terminated abruptly while the future was running or "
      "pending. (" + cause + ")"));
  for (auto& w : workers)
    if (w.batch)
      for (auto& call : w.batch->calls) call->core().set_exception_if_pending(error);
  for (auto& batch : queued)
    for (auto& call : batch.calls) call->core().set_exception_if_pending(error);
}

void MpiPoolExecutor::State::run_bridge() {
  auto& w = world();
  auto is_dead = [&](const Worker& worker) { return w.dead[static_cast<std::size_t>(worker.rank)] != 0; };
  Backoff backoff;
  std::vector<pollfd> fds;
  for (;;) {
    const auto sent = next_id;
    dispatch();
    const auto waiting = in_flight_batches();
    collect_replies();
    // A worker's death, seen on its liveness socket: its batch will never come back.
    for (auto& worker : workers) {
      if (is_dead(worker) || !peer_gone(worker.liveness())) continue;
      w.dead[static_cast<std::size_t>(worker.rank)] = 1;
      break_pool(fmt::format("MPI rank {} ended", worker.rank));
    }
    {
      std::lock_guard lock(mutex);
      if (!broken.empty())
        // Every pending future has failed. Forget the batches of dead workers; wait for the
        // replies of live ones, so that they are free to exit with the program.
        for (auto& worker : workers)
          if (is_dead(worker)) worker.batch.reset();
      if ((shutdown || !broken.empty()) && queue.empty() && !busy()) break;
    }
    if (in_flight_batches() < waiting) {
      backoff.reset();
      continue;  // a worker is free again: give it the next batch before waiting
    }
    if (next_id != sent) backoff.reset();
    fds.clear();
    fds.push_back({bridge.wake_fd(), POLLIN, 0});
    for (auto& worker : workers)
      if (worker.liveness() >= 0 && !is_dead(worker)) fds.push_back({worker.liveness(), POLLIN, 0});
    if (busy()) {
      auto timeout = backoff.next();  // replies are polled for: MPI has no descriptor to wait on
      wait_fds(fds, &timeout);
    } else {
      wait_fds(fds, nullptr);  // nothing in flight: sleep until a submit or shutdown wakes us
    }
    if (fds[0].revents) bridge.drain();
  }
  w.bridge_running = false;
}

MpiPoolExecutor::MpiPoolExecutor(std::size_t max_workers) : state_(std::make_shared<State>()) {
  auto& w = world();
  if (!w.initialised)
    throw RuntimeError(
        "MpiPoolExecutor: the program was not started by mpirun, so it has no worker ranks; run "
        "it as `mpirun -np N program` (N >= 2)");
  if (w.rank != 0)
    throw RuntimeError(
        "MpiPoolExecutor: only rank 0 runs the pool; a worker rank serves from "
        "asyncio::process_pool_worker_main(argc, argv), which main() must call first");
  if (w.size < 2)
    throw RuntimeError("MpiPoolExecutor: no worker ranks; run the program with mpirun -np N, N >= 2");
  bool expected = false;
  if (!w.pool_exists.compare_exchange_strong(expected, true) || w.bridge_running)
    throw RuntimeError("MpiPoolExecutor: another MpiPoolExecutor exists; the worker ranks serve one at a time");
  // Ranks seen dead by an earlier pool cannot be replaced: a new pool uses the live ones.
  std::size_t ranks = 0;
  for (int r = 1; r < w.size; ++r) ranks += w.dead[static_cast<std::size_t>(r)] ? 0 : 1;
  if (ranks == 0) {
    w.pool_exists = false;
    throw BrokenMpiPool("MpiPoolExecutor: every worker rank has died");
  }
  state_->max_workers = max_workers ? std::min(max_workers, ranks) : ranks;
  for (int r = 1; r < w.size && state_->workers.size() < state_->max_workers; ++r)
    if (!w.dead[static_cast<std::size_t>(r)]) state_->workers.push_back(State::Worker{r, std::nullopt, 0});
  w.bridge_running = true;
  try {
    state_->bridge.start("MpiPoolBridge", [state = state_] { state->run_bridge(); });
  } catch (...) {
    w.bridge_running = false;
    w.pool_exists = false;
    throw;
  }
}

MpiPoolExecutor::~MpiPoolExecutor() {
  shutdown(true);
  state_->bridge.detach();
  world().pool_exists = false;
}

std::size_t MpiPoolExecutor::max_workers() const noexcept { return state_->max_workers; }

void MpiPoolExecutor::submit_batch(detail::MpiBatch batch) {
  for (auto& call : batch.calls)
    if (call->args.size() > kMaxMessage / 2)
      throw std::length_error(fmt::format("MpiPoolExecutor: the arguments of '{}' are too large "
                                          "to send ({} bytes)", batch.function, call->args.size()));
  auto& s = *state_;
  {
    std::lock_guard lock(s.mutex);
    if (!s.broken.empty()) throw BrokenMpiPool(s.broken);
    if (s.shutdown) throw RuntimeError("cannot schedule new futures after shutdown");
    s.queue.push_back(std::move(batch));
  }
  s.bridge.wake();
}

void MpiPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  auto& s = *state_;
  std::deque<detail::MpiBatch> cancelled;
  {
    std::lock_guard lock(s.mutex);
    s.shutdown = true;
    if (cancel_futures) cancelled.swap(s.queue);
  }
  for (auto& batch : cancelled)
    for (auto& call : batch.calls) call->core().cancel();
  cancelled.clear();
  s.bridge.wake();
  if (wait) s.bridge.join();
}

std::ostream& operator<<(std::ostream& os, const MpiPoolExecutor& pool) {
  auto& s = *pool.state_;
  std::lock_guard lock(s.mutex);
  const char* state = !s.broken.empty() ? "broken" : s.shutdown ? "shutdown" : "running";
  return os << "<MpiPoolExecutor max_workers=" << s.max_workers << " running=" << s.in_flight
            << " queued=" << s.queue.size() << " state=" << state << '>';
}

}  // namespace asyncio
