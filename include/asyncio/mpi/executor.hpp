#pragma once
/// \file mpi/executor.hpp
/// MpiPoolExecutor: the process pool's interface over MPI ranks, so CPU-bound calls reach
/// past one machine (mpi4py.futures.MPIPoolExecutor, on OpenMPI). Link asyncio::mpi; the core
/// library does not depend on MPI, and this header does not include <mpi.h>.
///
/// Python (mpi4py.futures)                          C++
/// -----------------------------------------------  ------------------------------------------
/// $ mpiexec -n 3 python -m mpi4py.futures prog.py  $ mpirun -np 3 build/prog
/// with MPIPoolExecutor() as pool:                  { asyncio::MpiPoolExecutor pool;
///     f = pool.submit(factorial, 1000)                 auto f = pool.submit(slow_factorial, 1000);
///     r = list(pool.map(factorial, xs, chunksize=8))   std::vector<mpz_class> r = pool.map(8, slow_factorial, xs);
/// r = await loop.run_in_executor(pool, fn, x)      auto r = co_await loop.run_in_executor(pool, fn, x);
///
/// How the ranks start (the worker-start rule)
/// -------------------------------------------
/// Run the program under mpirun: `mpirun -np N prog args...` starts N copies. Rank 0 runs
/// main(): the event loop and the program. Ranks 1..N-1 are the workers. The library notices
/// mpirun's environment (OMPI_COMM_WORLD_RANK, or PMIX_RANK / PMI_RANK) during static
/// initialisation and initialises MPI there on every rank; a worker rank then serves calls from
/// the top of main(), where the program calls asyncio::process_pool_worker_main(argc, argv)
/// (the process pool's rule, Python's `if __name__ == "__main__":`), until rank 0's program
/// exits. So:
///  - main() begins with `asyncio::process_pool_worker_main(argc, argv);` (on rank 0 and in a
///    program started without mpirun it returns at once);
///  - functions run by the pool are registered at namespace scope with
///    ASYNCIO_REGISTER_PROCESS_FUNCTION, exactly as for ProcessPoolExecutor;
///  - constructors of globals run on every rank: keep them cheap and without side effects;
///  - a program started without mpirun has no workers: MpiPoolExecutor's constructor throws
///    RuntimeError (no MPI_Comm_spawn: a launcher on a cluster gives the ranks it was asked for).
/// Worker ranks exit when rank 0's program exits (an atexit handler sends them the word and
/// calls MPI_Finalize on every rank), not when an executor shuts down: a later executor in the
/// same program uses them again. Only one MpiPoolExecutor may exist at a time.
///
/// The loop is never blocked by MPI
/// --------------------------------
/// Every MPI call on rank 0 after start-up is made by the pool's one bridge thread; the loop
/// thread only queues calls and receives completions through call_soon_threadsafe (the same
/// bridge as the other pools: wrap_future). MPI is initialised with MPI_THREAD_SERIALIZED,
/// which is all one bridge thread needs (MPI_THREAD_MULTIPLE costs locks inside MPI on every
/// call and is not needed). The bridge does not block in MPI_Wait/MPI_Recv: OpenMPI's blocking
/// calls spin a core at 100% while they wait, which would steal a core from the workers on an
/// oversubscribed node. Instead it polls: MPI_Iprobe/MPI_Test for replies, then sleeps in
/// ppoll() on a wake-up eventfd (new calls) and the liveness sockets (below), for a timeout that
/// grows from 20 us to 1 ms while replies are awaited, and with no timeout when nothing is in
/// flight. Idle workers poll the same way. The price: up to ~1 ms latency per reply when
/// calls are long; nothing when the pool is idle.
///
/// Cost model
/// ----------
/// Each submit() is one round trip: the call's arguments are serialized (cereal) and sent to a
/// worker, the result serialized and sent back, each over MPI (shared memory on one node, the
/// network between nodes), plus up to the polling latency above. One worker runs one batch at
/// a time. For many small calls, batch them: `pool.map(chunksize, fn, xs)` sends `chunksize`
/// calls in one message and brings their results back in one (mpi4py's chunksize), so the
/// round trip is paid once per chunk. Start-up (mpirun, MPI_Init) is paid once per program.
///
/// On a cluster
/// ------------
/// The same binary, on a path every node sees, with a hostfile listing the nodes and their
/// slots:
///
///     $ cat hosts
///     node01 slots=32
///     node02 slots=32
///     $ mpirun -np 64 --hostfile hosts build/examples/factorial_mpi
///
/// gives rank 0 and 63 workers. Results come back over the network, so batch with map's
/// chunksize. GMP integers are sent as their limbs: all nodes must share the architecture.
/// mpirun refuses to run as root unless given --allow-run-as-root (or the environment
/// OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1); on one machine with fewer cores
/// than ranks, add --oversubscribe.
///
/// When a worker dies
/// ------------------
/// Each worker holds a TCP connection to rank 0 (opened at start-up, never written to); a
/// worker's death closes it, on any node. The pool then fails every pending future with
/// BrokenMpiPool (a BrokenExecutor), and submit() throws it from then on, as the process pool
/// does. But OpenMPI's default reaction to a rank that dies is to kill the whole job: for the
/// program to see BrokenExecutor instead, run `mpirun --enable-recovery ...`. (Either way
/// nothing hangs.) A worker whose rank 0 dies exits too.
///
/// Differences from the process pool: exceptions come back as RemoteError in the same way;
/// map() also takes a chunksize; max_workers is at most the number of worker ranks (0: all).
///
/// Thread safety: every member may be called from any thread (done-callbacks run on the
/// bridge thread). run_in_executor's futures belong to the loop's thread.

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <ranges>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/executors.hpp"

namespace asyncio {

/// A worker rank of an MpiPoolExecutor died (a BrokenExecutor, like BrokenProcessPool).
class BrokenMpiPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

namespace mpi {

/// This process's rank in MPI_COMM_WORLD: 0 in the program, or when not started by mpirun.
int rank() noexcept;
/// The number of ranks in MPI_COMM_WORLD (1 when not started by mpirun).
int world_size() noexcept;

}  // namespace mpi

namespace detail {

/// A batch of calls of one registered function, sent to a worker in one message; a submit()
/// is a batch of one.
struct MpiBatch {
  std::string_view function;                         // registry name (lives forever)
  std::vector<std::unique_ptr<ProcessCall>> calls;   // each: its future and its serialized args
};

}  // namespace detail

/// A pool of MPI worker ranks running registered functions (mpi4py.futures.MPIPoolExecutor).
/// See the top of this file for how the ranks start, the cost model and failures.
///
///   ASYNCIO_REGISTER_PROCESS_FUNCTION(slow_factorial);            // namespace scope
///   asyncio::MpiPoolExecutor pool;                                 // every worker rank
///   std::vector<mpz_class> r = pool.map(16, slow_factorial, numbers);   // chunks of 16
///
/// Lifecycle: running -> shut down (submit throws RuntimeError "cannot schedule new futures
/// after shutdown") or broken (a worker rank died: BrokenMpiPool). The destructor is
/// shutdown(wait=true).
class MpiPoolExecutor : public AbstractExecutor {
 public:
  /// max_workers 0 means every worker rank (world size - 1). Throws RuntimeError if the
  /// program was not started by mpirun with at least 2 ranks, if called on a worker rank, or
  /// if another MpiPoolExecutor exists.
  explicit MpiPoolExecutor(std::size_t max_workers = 0);
  MpiPoolExecutor(const MpiPoolExecutor&) = delete;
  MpiPoolExecutor& operator=(const MpiPoolExecutor&) = delete;
  ~MpiPoolExecutor() override;

  /// Schedules fn(args...) on a worker rank; as ProcessPoolExecutor::submit.
  template <class R, class... P, class... Args>
  auto submit(R (*fn)(P...), Args&&... args) {
    static_assert(sizeof...(P) == sizeof...(Args),
                  "MpiPoolExecutor::submit: pass exactly one argument per parameter");
    static_assert((std::is_constructible_v<std::decay_t<P>, Args&&> && ...),
                  "MpiPoolExecutor::submit: an argument does not convert to its parameter");
    detail::MpiBatch batch;
    batch.function = detail::process_function_name(reinterpret_cast<detail::ErasedFunction>(fn));
    auto future = add_call(batch, fn, std::forward<Args>(args)...);
    submit_batch(std::move(batch));
    return future;
  }

  /// fn applied to each element (each row of the zipped ranges), all submitted at once, one
  /// message per call; results in input order.
  template <class R, class... P, std::ranges::input_range... Ranges>
    requires(sizeof...(Ranges) > 0)
  auto map(R (*fn)(P...), Ranges&&... ranges) {
    return map(std::size_t{1}, fn, std::forward<Ranges>(ranges)...);
  }

  /// The same, sending `chunksize` calls per message (mpi4py's map(..., chunksize=n)): one
  /// round trip per chunk instead of per call. Results still come one by one, in input order.
  template <class R, class... P, std::ranges::input_range... Ranges>
    requires(sizeof...(Ranges) > 0)
  auto map(std::size_t chunksize, R (*fn)(P...), Ranges&&... ranges) {
    if (chunksize < 1) throw std::invalid_argument("chunksize must be >= 1");
    using Result = std::remove_cvref_t<R>;
    const auto name = detail::process_function_name(reinterpret_cast<detail::ErasedFunction>(fn));
    std::vector<concurrent::Future<Result>> futures;
    detail::MpiBatch batch;
    auto flush = [&] {
      if (batch.calls.empty()) return;
      submit_batch(std::move(batch));
      batch = {};
    };
    auto add_one = [&](auto&&... row) {
      if (batch.calls.empty()) batch.function = name;
      futures.push_back(add_call(batch, fn, std::forward<decltype(row)>(row)...));
      if (batch.calls.size() == chunksize) flush();
      return 0;
    };
    detail::submit_zipped(add_one, std::index_sequence_for<Ranges...>{}, std::forward<Ranges>(ranges)...);
    flush();
    return concurrent::MapResult<Result>(std::move(futures));
  }

  /// Stops accepting work. With cancel_futures, cancels the calls not yet sent to a worker.
  /// With wait, returns when every call sent has come back (the worker ranks stay up for a
  /// later executor; they exit with the program). Safe to call more than once.
  void shutdown(bool wait = true, bool cancel_futures = false) override;

  std::size_t max_workers() const noexcept;

  /// `<MpiPoolExecutor max_workers=2 running=2 queued=0 state=running>`
  friend std::ostream& operator<<(std::ostream& os, const MpiPoolExecutor& pool);

  struct State;

 private:
  template <class R, class... P, class... Args>
  static auto add_call(detail::MpiBatch& batch, R (*)(P...), Args&&... args) {
    using Result = std::remove_cvref_t<R>;
    auto call = std::make_unique<detail::TypedProcessCall<Result>>();
    call->function = batch.function;
    call->args = detail::serialize(std::tuple<std::decay_t<P>...>(std::forward<Args>(args)...));
    concurrent::Future<Result> future = call->future;
    batch.calls.push_back(std::move(call));
    return future;
  }
  void submit_batch(detail::MpiBatch batch);
  std::shared_ptr<State> state_;
};

}  // namespace asyncio
