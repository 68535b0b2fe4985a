#pragma once
/// \file exceptions.hpp
/// asyncio's exceptions (CPython `asyncio/exceptions.py`).
///
/// How they map to C++:
///
/// | Python                          | C++                                                    |
/// |---------------------------------|--------------------------------------------------------|
/// | `BaseException`                 | `asyncio::BaseException` (NOT a `std::exception`)      |
/// | `asyncio.CancelledError`        | `asyncio::CancelledError : BaseException`              |
/// | `KeyboardInterrupt`             | `asyncio::KeyboardInterrupt : BaseException`           |
/// | `Exception`                     | `std::exception`                                       |
/// | `RuntimeError`                  | `asyncio::RuntimeError : std::runtime_error`           |
/// | `TimeoutError`                  | `asyncio::TimeoutError : OSError : std::runtime_error` |
/// | `OSError` and its subclasses    | `asyncio::OSError : std::runtime_error` (below)        |
/// | `asyncio.InvalidStateError`     | `asyncio::InvalidStateError : std::logic_error`        |
///
/// Python derives `CancelledError` from `BaseException` so that
/// `except Exception:` does not swallow a cancellation by accident. The C++
/// equivalent of `except Exception:` is `catch (const std::exception&)`, so
/// `CancelledError` deliberately does not derive from `std::exception`:
///
/// ```cpp
/// try {
///   co_await asyncio::sleep(10s);
/// } catch (const std::exception& e) {
///   // ordinary errors only: a cancellation passes straight through
/// } catch (const asyncio::CancelledError&) {
///   // cleanup ...
///   throw;  // let the task end cancelled (as `raise` in Python)
/// }
/// ```
///
/// C++ allows no `co_await` inside a `catch` block; to await during cleanup
/// use `asyncio::try_finally(body, cleanup)` (coroutines.hpp), which keeps the
/// exception, awaits the cleanup and rethrows it.
///
/// `catch (...)` catches cancellations too, like a bare `except:` in Python:
/// rethrow them (`throw;`) unless you mean to ignore the cancel request.
#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>

namespace asyncio {

/// Root of the exceptions that are not errors (Python's `BaseException`).
///
/// Python tells `E()` (no argument, `e.args == ()`) from `E('')` (one empty
/// argument, `e.args == ('',)`); so does this class: `has_args()` is false only
/// for the default-constructed form, and `exception_repr` prints `E()` or `E('')`.
class BaseException {
 public:
  BaseException() noexcept = default;
  explicit BaseException(std::string message) : message_(std::move(message)), has_args_(true) {}
  virtual ~BaseException() = default;
  /// The message, as `str(exc)` in Python; empty when there is none.
  virtual const char* what() const noexcept { return message_.c_str(); }
  const std::string& message() const noexcept { return message_; }
  /// False for `E()`, true for `E(msg)` even when msg is empty (`bool(e.args)`).
  bool has_args() const noexcept { return has_args_; }

 private:
  std::string message_;
  bool has_args_ = false;
};

/// The operation was cancelled (`asyncio.CancelledError`). Thrown into a task at
/// its current `co_await` after `Task::cancel(msg)`; `what()` is `msg`.
class CancelledError : public BaseException {
 public:
  using BaseException::BaseException;
};

/// Python's `SystemExit` and `KeyboardInterrupt`: the two BaseExceptions that a
/// TaskGroup lets out alone (CPython's `_is_base_error`); any other BaseException
/// a child or the body raises goes into the ExceptionGroup with the errors.
class SystemExit : public BaseException {
 public:
  using BaseException::BaseException;
};

/// The user pressed Ctrl-C (Python's `KeyboardInterrupt`): thrown by
/// `asyncio::run()` / `Runner::run()` after a SIGINT (runners.hpp). Not a
/// std::exception, as it is no error: `catch (const std::exception&)` lets it pass.
class KeyboardInterrupt : public BaseException {
 public:
  using BaseException::BaseException;
};

/// Python's `RuntimeError`: the library uses it for misuse detected at run time
/// (no running event loop, awaiting a coroutine twice, a task awaiting itself).
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- OSError and its family (Python's built-in exceptions) -------------------
//
// | Python                     | C++                                              |
// |----------------------------|--------------------------------------------------|
// | `OSError`                  | `asyncio::OSError : std::runtime_error`          |
// | `ConnectionError`          | `asyncio::ConnectionError : OSError`             |
// | `BrokenPipeError`, `ConnectionAbortedError`, `ConnectionRefusedError`,        |
// | `ConnectionResetError`     | `asyncio::<same name> : ConnectionError`         |
// | `FileExistsError`, `FileNotFoundError`, `IsADirectoryError`,                 |
// | `NotADirectoryError`, `PermissionError`, `ProcessLookupError`,               |
// | `ChildProcessError`, `InterruptedError`, `BlockingIOError`,                  |
// | `TimeoutError`             | `asyncio::<same name> : OSError`                 |
// | `socket.gaierror`          | `asyncio::gaierror : OSError`                    |
//
// `errnum()` is `exc.errno` (0 for Python's `None`; `errno` is a C macro), `strerror()` the
// system's message, `filename()` the file or address it concerns (may be empty).
// `what()` is Python's `str(exc)`: `[Errno 111] Connect call failed ('127.0.0.1', 1)`
// when there is an errno, else the plain message.
//
// `os_error(errno, message)` builds the subclass Python's OSError constructor
// picks for that errno (ECONNREFUSED -> ConnectionRefusedError, ENOENT ->
// FileNotFoundError, ...): the one errno -> class mapping of the library.

/// Python's `OSError`: a system call failed. See the table above.
class OSError : public std::runtime_error {
 public:
  /// `OSError(msg)`: no errno (`errno()` is 0).
  explicit OSError(const std::string& message = {}) : std::runtime_error(message) {}
  /// `OSError(errno, strerror)` / `OSError(errno, strerror, filename)`.
  OSError(int errnum, std::string strerror, std::string filename = {})
      : std::runtime_error(format(errnum, strerror, filename)),
        errno_(errnum),
        strerror_(std::move(strerror)),
        filename_(std::move(filename)) {}
  /// The error number (`exc.errno`), 0 when there is none.
  int errnum() const noexcept { return errno_; }
  /// The message without the errno (`exc.strerror`).
  const std::string& strerror() const noexcept { return strerror_; }
  /// `exc.filename`: the file (or address) concerned, empty when none.
  const std::string& filename() const noexcept { return filename_; }

 private:
  static std::string format(int errnum, const std::string& strerror, const std::string& filename);
  int errno_ = 0;
  std::string strerror_;
  std::string filename_;
};

#define ASYNCIO_OS_ERROR_SUBCLASS(Name, Base) \
  class Name : public Base {                  \
   public:                                    \
    using Base::Base;                         \
  };
/// A connection-related error (`ConnectionError`).
ASYNCIO_OS_ERROR_SUBCLASS(ConnectionError, OSError)
/// EPIPE, ESHUTDOWN: writing to a closed connection (`BrokenPipeError`).
ASYNCIO_OS_ERROR_SUBCLASS(BrokenPipeError, ConnectionError)
/// ECONNABORTED (`ConnectionAbortedError`).
ASYNCIO_OS_ERROR_SUBCLASS(ConnectionAbortedError, ConnectionError)
/// ECONNREFUSED (`ConnectionRefusedError`).
ASYNCIO_OS_ERROR_SUBCLASS(ConnectionRefusedError, ConnectionError)
/// ECONNRESET, or a connection lost while writing (`ConnectionResetError`).
ASYNCIO_OS_ERROR_SUBCLASS(ConnectionResetError, ConnectionError)
/// EEXIST (`FileExistsError`).
ASYNCIO_OS_ERROR_SUBCLASS(FileExistsError, OSError)
/// ENOENT (`FileNotFoundError`).
ASYNCIO_OS_ERROR_SUBCLASS(FileNotFoundError, OSError)
/// EISDIR (`IsADirectoryError`).
ASYNCIO_OS_ERROR_SUBCLASS(IsADirectoryError, OSError)
/// ENOTDIR (`NotADirectoryError`).
ASYNCIO_OS_ERROR_SUBCLASS(NotADirectoryError, OSError)
/// EACCES, EPERM (`PermissionError`).
ASYNCIO_OS_ERROR_SUBCLASS(PermissionError, OSError)
/// ESRCH (`ProcessLookupError`).
ASYNCIO_OS_ERROR_SUBCLASS(ProcessLookupError, OSError)
/// ECHILD (`ChildProcessError`).
ASYNCIO_OS_ERROR_SUBCLASS(ChildProcessError, OSError)
/// EINTR (`InterruptedError`).
ASYNCIO_OS_ERROR_SUBCLASS(InterruptedError, OSError)
/// EAGAIN, EWOULDBLOCK, EALREADY, EINPROGRESS (`BlockingIOError`).
ASYNCIO_OS_ERROR_SUBCLASS(BlockingIOError, OSError)
/// Name resolution failed (`socket.gaierror`); `errnum()` is the EAI_* code
/// (negative, as Python's), `strerror()` gai_strerror's text.
ASYNCIO_OS_ERROR_SUBCLASS(gaierror, OSError)
#undef ASYNCIO_OS_ERROR_SUBCLASS

/// The operation exceeded its deadline (`TimeoutError`, also `asyncio.TimeoutError`
/// and `concurrent.futures.TimeoutError` since 3.11): an OSError, ETIMEDOUT when
/// it comes from the system, errno 0 when a deadline (`wait_for`, `timeout`)
/// expired, with an empty message as Python's `TimeoutError()`.
class TimeoutError : public OSError {
 public:
  TimeoutError() : OSError(std::string()) {}
  using OSError::OSError;
};

/// The OSError subclass Python picks for `errnum` (see the table above),
/// `OSError(errnum, strerror, filename)`, as an exception_ptr ready to throw
/// or to pass to a future. `strerror` empty: the system's `strerror(errnum)`.
std::exception_ptr os_error(int errnum, std::string strerror = {}, std::string filename = {});
/// Throws `os_error(errnum, strerror, filename)`.
[[noreturn]] void throw_os_error(int errnum, std::string strerror = {}, std::string filename = {});

/// An operation on a Future or Task in the wrong state
/// (`asyncio.InvalidStateError`), e.g. `result()` before it is done.
class InvalidStateError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// Python's name for the type of `e`, for messages and reprs: `CancelledError`,
/// `TimeoutError`, `InvalidStateError`, `RuntimeError` (std::runtime_error and
/// asyncio::RuntimeError), `TypeError`, `KeyError`, `ZeroDivisionError`,
/// `ValueError` (std::invalid_argument, std::domain_error), `IndexError`
/// (std::out_of_range), `OverflowError`, `MemoryError`
/// (std::bad_alloc), `Exception` (any other std::exception); other types by
/// their demangled C++ name.
std::string exception_type_name(const std::exception_ptr& e);
/// The message of `e` (`str(exc)` in Python): what() for std::exception and
/// BaseException, empty otherwise.
std::string exception_message(const std::exception_ptr& e);
/// `repr(exc)`: `RuntimeError('Too big number')`, `TimeoutError()`; a
/// BaseException built with an empty message prints `CancelledError('')`.
std::string exception_repr(const std::exception_ptr& e);

// ---- synchronisation primitives and queues (locks.hpp, queues.hpp) ----------
//
// | Python                          | C++                                                    |
// |---------------------------------|--------------------------------------------------------|
// | `ValueError`                    | `asyncio::ValueError : std::invalid_argument`          |
// | `asyncio.BrokenBarrierError`    | `asyncio::BrokenBarrierError : asyncio::RuntimeError`  |
// | `asyncio.QueueEmpty`            | `asyncio::QueueEmpty : std::runtime_error`             |
// | `asyncio.QueueFull`             | `asyncio::QueueFull : std::runtime_error`              |
// | `asyncio.QueueShutDown`         | `asyncio::QueueShutDown : std::runtime_error`          |
//
// ValueError derives from std::invalid_argument, which exception_type_name()
// already calls `ValueError`. The queue exceptions carry no message, as in
// Python (`str(QueueEmpty())` is empty); their type says it all.

/// Python's `ValueError`: an argument with the right type but a wrong value
/// (`Semaphore(-1)`, `Barrier(0)`, a BoundedSemaphore released too many times,
/// `task_done()` called too many times, a negative queue size).
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// ---- the other builtin errors examples and user code meet --------------------
//
// | Python              | C++                                                 |
// |---------------------|-----------------------------------------------------|
// | `TypeError`         | `asyncio::TypeError : std::logic_error`             |
// | `KeyError`          | `asyncio::KeyError : std::out_of_range` (LookupError) |
// | `ZeroDivisionError` | `asyncio::ZeroDivisionError : std::domain_error` (ArithmeticError) |
//
// None of them is caught by `catch (const asyncio::ValueError&)`, as in Python.
// A KeyError is built from the repr of the missing key, because Python's
// `str(KeyError('k'))` is `'k'`: `throw asyncio::KeyError(asyncio::py_repr(key))`
// (repr.hpp); what() is then `'k'` and exception_repr `KeyError('k')`.

/// Python's `TypeError`: an argument of the wrong kind (e.g. `set_exception`
/// given a null exception_ptr: "invalid exception object";
/// a transport given a protocol it cannot drive).
class TypeError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// Python's `KeyError`: a mapping has no such key.
class KeyError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

/// Python's `ZeroDivisionError`: "division by zero".
class ZeroDivisionError : public std::domain_error {
 public:
  ZeroDivisionError() : std::domain_error("division by zero") {}
  using std::domain_error::domain_error;
};

/// Python's `NotImplementedError` (a RuntimeError): an operation this object
/// does not support (`write_eof()` on a transport that cannot half-close).
class NotImplementedError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

/// A Barrier was aborted or reset while a task waited on it, or is broken
/// (`asyncio.BrokenBarrierError`, a subclass of RuntimeError in Python too).
class BrokenBarrierError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

/// `get_nowait()` on an empty queue (`asyncio.QueueEmpty`).
class QueueEmpty : public std::runtime_error {
 public:
  QueueEmpty() : std::runtime_error("") {}
};

/// The stream ended before `expected` bytes were read (`asyncio.IncompleteReadError`,
/// an `EOFError`): `partial` holds the bytes read before the end. `what()` is
/// "2 bytes read on a total of 5 expected bytes" ("undefined" when expected is unknown).
class IncompleteReadError : public std::runtime_error {
 public:
  IncompleteReadError(std::string partial, std::optional<std::size_t> expected);
  std::string partial;
  std::optional<std::size_t> expected;
};

/// A stream's buffer limit was reached while looking for a separator
/// (`asyncio.LimitOverrunError`); `consumed` is how many bytes may be consumed.
class LimitOverrunError : public std::runtime_error {
 public:
  LimitOverrunError(const std::string& message, std::size_t consumed)
      : std::runtime_error(message), consumed(consumed) {}
  std::size_t consumed;
};

/// `put_nowait()` on a full queue (`asyncio.QueueFull`).
class QueueFull : public std::runtime_error {
 public:
  QueueFull() : std::runtime_error("") {}
};

/// put or get on a queue that was shut down (`asyncio.QueueShutDown`, 3.13):
/// every put, and a get once the queue is empty (at once with `immediate`).
class QueueShutDown : public std::runtime_error {
 public:
  QueueShutDown() : std::runtime_error("") {}
};

namespace detail {
/// The demangled name of a C++ type ("std::invalid_argument"); the mangled one
/// when it cannot be demangled.
std::string demangle(const std::type_info& type);
/// True when `e` holds an `E` (or a subclass of it).
template <class E>
bool holds(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
}
/// True when `e` holds a CancelledError.
bool is_cancelled_error(const std::exception_ptr& e) noexcept;
}  // namespace detail

}  // namespace asyncio
