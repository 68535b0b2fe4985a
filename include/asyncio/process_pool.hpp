#pragma once
/// \file process_pool.hpp
/// ProcessPoolExecutor (CPython's concurrent/futures/process.py, "spawn" start method), the
/// registry of the functions it runs, and process_pool_worker_main, the worker start. The
/// futures, errors and ThreadPoolExecutor are in asyncio/concurrent_futures.hpp (included).
/// This header needs cereal (header-only), which serializes the arguments and results; GMP
/// integers cross the pool with asyncio/serialize_gmp.hpp (opt-in).
///
/// How the process pool starts its workers (it never forks a threaded process)
/// ----------------------------------------------------------------------------
/// CPython's "spawn" start method, for C++: a worker is the program itself, started again with
/// posix_spawn("/proc/self/exe") (vfork+exec, safe in a process that already has threads),
/// with the argument `--asyncio-process-pool-worker` and an environment variable
/// ASYNCIO_PROCESS_POOL_WORKER=<fd> naming its end of a socketpair. The program hands the
/// worker over to the library by calling asyncio::process_pool_worker_main(argc, argv) first
/// thing in main(): in a worker it serves calls on the socket and _exit(0)s when the parent
/// closes it, so the rest of main() never runs there; anywhere else it returns at once. This is
/// Python's rule under spawn, `if __name__ == "__main__":` around the program's own work:
///
///   int main(int argc, char** argv) {
///     asyncio::process_pool_worker_main(argc, argv);   // if __name__ == "__main__":
///     ...the program...
///   }
///
/// Only a process started by a pool (both the argument and the variable) becomes a worker,
/// and only where the program asks for it. Work done before main (constructors of globals)
/// runs in every worker too, so keep it cheap and side-effect free. A program that forgets the
/// call runs main() again in each worker; a pool the worker then creates refuses to start
/// workers (BrokenProcessPool naming this rule, Python's "bootstrapping phase" RuntimeError),
/// and the parent's calls fail with BrokenProcessPool when that worker exits.
///
/// Functions are registered by name at namespace scope (never inside main(): a worker serves
/// from the top of main, after every registration made during static initialisation):
///
///   mpz_class slow_factorial(int n) { ... }
///   ASYNCIO_REGISTER_PROCESS_FUNCTION(slow_factorial);
///   ...
///   asyncio::ProcessPoolExecutor pool;
///   auto f = pool.submit(slow_factorial, 10000);   // looks up "slow_factorial", sends (10000)
///
/// The function must be named unambiguously: an overloaded name (such as `factorial`, which
/// gmpxx.h also declares) cannot be passed as it is; pick one overload with a cast, and
/// register it with ASYNCIO_REGISTER_PROCESS_FUNCTION_AS("name", cast).
///
/// Arguments are converted to the function's parameter types and serialized with cereal's
/// binary archive; results come back the same way. Anything cereal serializes works (include
/// the cereal/types/<x>.hpp you need); this header adds the common standard containers, and
/// asyncio/serialize_gmp.hpp GMP's mpz_class (include it, and link gmpxx and gmp). A worker that dies (crash, kill -9) fails every pending future with
/// BrokenProcessPool and the pool refuses new work, as in Python.
///
/// Thread safety: every member of ProcessPoolExecutor may be called from any thread; its
/// futures' done-callbacks run on the pool's manager thread.

#include <sys/types.h>

#include <cereal/archives/binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>
#include <cstddef>
#include <istream>
#include <iosfwd>
#include <memory>
#include <ostream>
#include <ranges>
#include <streambuf>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/concurrent_futures.hpp"

namespace asyncio {

namespace detail {

/// Runs a registered function in a worker: deserializes its arguments from `args`, calls it,
/// returns its serialized result.
using ProcessInvoker = std::string (*)(ErasedFunction fn, std::string_view args);

/// Adds `fn` to the registry under `name` (idempotent; a name already taken by another
/// function aborts the program with a message: it is a static-initialisation error).
bool register_process_function_erased(std::string_view name, ErasedFunction fn,
                                      ProcessInvoker invoker, ErasedProcessSubmit submit);
/// The name `fn` was registered under; throws std::invalid_argument if it was not.
std::string_view process_function_name(ErasedFunction fn);
/// Runs the function registered as `name` on serialized arguments and returns its serialized
/// result (what a worker does with a request). Throws std::invalid_argument if nothing is
/// registered under `name`, and what the function throws.
std::string run_registered_function(std::string_view name, std::string_view args);

/// A worker rank of an MpiPoolExecutor (include/asyncio/mpi/executor.hpp) hands its serving
/// loop to process_pool_worker_main, which runs it instead of the rest of main().
void set_worker_rank_server(void (*serve)());

/// A read-only streambuf over bytes, so cereal can read a message in place.
class MemoryBuffer : public std::streambuf {
 public:
  explicit MemoryBuffer(std::string_view bytes) {
    char* p = const_cast<char*>(bytes.data());
    setg(p, p, p + bytes.size());
  }
};

template <class T>
std::string serialize(const T& value) {
  std::string out;
  {
    // A string-backed ostream without std::ostringstream's extra copy.
    struct StringBuffer : std::streambuf {
      explicit StringBuffer(std::string& s) : s_(s) {}
      std::streamsize xsputn(const char* p, std::streamsize n) override {
        s_.append(p, static_cast<std::size_t>(n));
        return n;
      }
      int_type overflow(int_type c) override {
        if (!traits_type::eq_int_type(c, traits_type::eof())) s_.push_back(traits_type::to_char_type(c));
        return traits_type::not_eof(c);
      }
      std::string& s_;
    } buffer(out);
    std::ostream os(&buffer);
    cereal::BinaryOutputArchive archive(os);
    archive(value);
  }
  return out;
}

template <class T>
void deserialize(std::string_view bytes, T& value) {
  MemoryBuffer buffer(bytes);
  std::istream is(&buffer);
  cereal::BinaryInputArchive archive(is);
  archive(value);
}

template <class R, class... P>
std::string invoke_serialized(ErasedFunction erased, std::string_view args) {
  auto fn = reinterpret_cast<R (*)(P...)>(erased);
  std::tuple<std::decay_t<P>...> values;
  deserialize(args, values);
  auto call = [&] {
    return std::apply([&](auto&... a) -> R { return fn(static_cast<P&&>(a)...); }, values);
  };
  if constexpr (std::is_void_v<R>) {
    call();
    return {};
  } else {
    return serialize(static_cast<const std::remove_cvref_t<R>&>(call()));
  }
}

/// One call submitted to a ProcessPoolExecutor, as its manager thread sees it.
class ProcessCall {
 public:
  virtual ~ProcessCall() = default;
  virtual ConcurrentCore& core() noexcept = 0;
  /// Deserializes the worker's reply into the future (or fails it if the bytes are bad).
  virtual void set_result_bytes(std::string_view bytes) noexcept = 0;

  std::string_view function;  // the registered name (registry storage lives forever)
  std::string args;           // serialized std::tuple of the parameters
};

template <class R>
class TypedProcessCall final : public ProcessCall {
 public:
  ConcurrentCore& core() noexcept override { return ConcurrentAccess::core(future); }
  void set_result_bytes(std::string_view bytes) noexcept override {
    std::exception_ptr error;
    try {
      if constexpr (std::is_void_v<R>) {
        future.set_result();
      } else {
        R value{};
        deserialize(bytes, value);
        future.set_result(std::move(value));
      }
      return;
    } catch (...) {
      error = std::current_exception();
    }
    core().set_exception_if_pending(std::move(error));
  }
  concurrent::Future<R> future;
};

/// ErasedProcessSubmit for a function of this type (defined below ProcessPoolExecutor).
template <class R, class... P>
void submit_erased(AbstractExecutor& pool, ErasedFunction fn, const void* params, void* future);

}  // namespace detail

/// Registers `fn` under `name` so that ProcessPoolExecutor can run it in its workers (Python
/// pickles a function as its qualified name; the worker imports it). Call it at namespace
/// scope, before main (the macro below does): workers serve from the top of main().
template <class R, class... P>
bool register_process_function(std::string_view name, R (*fn)(P...)) {
  return detail::register_process_function_erased(
      name, reinterpret_cast<detail::ErasedFunction>(fn), &detail::invoke_serialized<R, P...>,
      &detail::submit_erased<R, P...>);
}

#define ASYNCIO_DETAIL_CONCAT2(a, b) a##b
#define ASYNCIO_DETAIL_CONCAT(a, b) ASYNCIO_DETAIL_CONCAT2(a, b)
/// Registers a free function for process pools under its own spelling:
/// `ASYNCIO_REGISTER_PROCESS_FUNCTION(slow_factorial);` at namespace scope.
#define ASYNCIO_REGISTER_PROCESS_FUNCTION(fn) ASYNCIO_REGISTER_PROCESS_FUNCTION_AS(#fn, fn)
/// The same under an explicit name; `fn` may be a cast that picks one overload.
#define ASYNCIO_REGISTER_PROCESS_FUNCTION_AS(name, fn)                              \
  [[maybe_unused]] static const bool ASYNCIO_DETAIL_CONCAT(asyncio_process_fn_, \
                                                           __COUNTER__) =        \
      ::asyncio::register_process_function(name, fn)

/// The worker start of the process pool, Python's `if __name__ == "__main__":` under spawn.
/// Call it first thing in main() of every program that uses a ProcessPoolExecutor (or an
/// MpiPoolExecutor): if this process is a worker -- started by a pool with the argument
/// `--asyncio-process-pool-worker` and ASYNCIO_PROCESS_POOL_WORKER set, or a worker rank under
/// mpirun -- it serves calls until its pool is done and ends the process with _exit (never
/// returning, running no atexit handler or static destructor); otherwise it returns at once and
/// does nothing. See the top of this header.
void process_pool_worker_main(int argc, char** argv);

/// A pool of worker processes that run registered functions
/// (concurrent.futures.ProcessPoolExecutor, "spawn" start method).
///
/// Workers start on demand, one per submit that finds no idle worker, up to max_workers
/// (default: the number of cores, Python's); each runs one call at a time. A call is
/// `running()` from the moment it is sent to a worker until its reply arrives; only calls
/// still queued can be cancelled. If a worker dies, every pending call fails with
/// BrokenProcessPool, the remaining workers are terminated and submit() throws
/// BrokenProcessPool from then on. An exception thrown by the function comes back as
/// RemoteError. See the top of this header for how workers start and what may be sent.
///
///   ASYNCIO_REGISTER_PROCESS_FUNCTION(slow_factorial);     // namespace scope
///   asyncio::ProcessPoolExecutor pool;                      // with ProcessPoolExecutor() as pool:
///   std::vector<mpz_class> r = pool.map(slow_factorial, numbers);   # list(pool.map(...))
///
/// Thread safety: all members may be called from any thread. A manager thread per pool sends
/// calls and completes futures (done-callbacks run on it).
class ProcessPoolExecutor : public AbstractExecutor {
 public:
  /// max_workers 0 means the number of cores.
  explicit ProcessPoolExecutor(std::size_t max_workers = 0);
  ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
  ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;
  ~ProcessPoolExecutor() override;

  /// Schedules fn(args...) in a worker. `fn` must be registered; `args` are converted to its
  /// parameter types and serialized now (later changes to them are not seen). Throws
  /// std::invalid_argument for an unregistered function.
  template <class R, class... P, class... Args>
  auto submit(R (*fn)(P...), Args&&... args) {
    static_assert(sizeof...(P) == sizeof...(Args),
                  "ProcessPoolExecutor::submit: pass exactly one argument per parameter");
    static_assert((std::is_constructible_v<std::decay_t<P>, Args&&> && ...),
                  "ProcessPoolExecutor::submit: an argument does not convert to its parameter");
    return submit_params(fn, std::tuple<std::decay_t<P>...>(std::forward<Args>(args)...));
  }

  /// submit() with the arguments already converted to the parameters' types.
  template <class R, class... P>
  concurrent::Future<std::remove_cvref_t<R>> submit_params(R (*fn)(P...),
                                                          const std::tuple<std::decay_t<P>...>& params) {
    using Result = std::remove_cvref_t<R>;
    auto call = std::make_unique<detail::TypedProcessCall<Result>>();
    call->function = detail::process_function_name(reinterpret_cast<detail::ErasedFunction>(fn));
    call->args = detail::serialize(params);
    concurrent::Future<Result> future = call->future;
    submit_call(std::move(call));
    return future;
  }

  /// fn applied to each element (each row of the zipped ranges), all submitted at once;
  /// results in input order.
  template <class R, class... P, std::ranges::input_range... Ranges>
    requires(sizeof...(Ranges) > 0)
  auto map(R (*fn)(P...), Ranges&&... ranges) {
    auto submit_one = [&](auto&&... row) { return submit(fn, std::forward<decltype(row)>(row)...); };
    auto futures = detail::submit_zipped(submit_one, std::index_sequence_for<Ranges...>{},
                                         std::forward<Ranges>(ranges)...);
    return concurrent::MapResult<std::remove_cvref_t<R>>(std::move(futures));
  }

  /// Stops accepting work. With cancel_futures, cancels the calls not yet sent to a worker.
  /// With wait, returns when every call has finished and every worker has exited (and been
  /// reaped). Safe to call more than once.
  void shutdown(bool wait = true, bool cancel_futures = false) override;

  std::size_t max_workers() const noexcept;
  /// The workers' process ids (Python: pool._processes), for diagnostics and tests.
  std::vector<pid_t> worker_pids() const;

  /// `<ProcessPoolExecutor max_workers=2 processes=2 queued=0 running=2 state=running>`
  friend std::ostream& operator<<(std::ostream& os, const ProcessPoolExecutor& pool);

  struct State;

 private:
  void submit_call(std::unique_ptr<detail::ProcessCall> call);
  std::shared_ptr<State> state_;
};

namespace detail {

template <class R, class... P>
void submit_erased(AbstractExecutor& pool, ErasedFunction fn, const void* params, void* future) {
  *static_cast<concurrent::Future<std::remove_cvref_t<R>>*>(future) =
      static_cast<ProcessPoolExecutor&>(pool).submit_params(
          reinterpret_cast<R (*)(P...)>(fn), *static_cast<const std::tuple<std::decay_t<P>...>*>(params));
}

}  // namespace detail

}  // namespace asyncio
