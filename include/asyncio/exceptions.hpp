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
/// | `Exception`                     | `std::exception`                                       |
/// | `RuntimeError`                  | `asyncio::RuntimeError : std::runtime_error`           |
/// | `TimeoutError`                  | `asyncio::TimeoutError : std::runtime_error`           |
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
/// C++ allows no `co_await` inside a `catch` block; to await during cleanup,
/// keep the exception (`std::current_exception()`), leave the handler, await,
/// then `std::rethrow_exception` it.
///
/// `catch (...)` catches cancellations too, like a bare `except:` in Python:
/// rethrow them (`throw;`) unless you mean to ignore the cancel request.
#include <stdexcept>
#include <string>

namespace asyncio {

/// Root of the exceptions that are not errors (Python's `BaseException`).
class BaseException {
 public:
  explicit BaseException(std::string message = {}) : message_(std::move(message)) {}
  virtual ~BaseException() = default;
  /// The message, as `str(exc)` in Python; empty when there is none.
  virtual const char* what() const noexcept { return message_.c_str(); }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string message_;
};

/// The operation was cancelled (`asyncio.CancelledError`). Thrown into a task at
/// its current `co_await` after `Task::cancel(msg)`; `what()` is `msg`.
class CancelledError : public BaseException {
 public:
  using BaseException::BaseException;
};

/// Python's `RuntimeError`: the library uses it for misuse detected at run time
/// (no running event loop, awaiting a coroutine twice, a task awaiting itself).
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The operation exceeded its deadline (`TimeoutError`, an alias of
/// `asyncio.TimeoutError` since 3.11).
class TimeoutError : public std::runtime_error {
 public:
  TimeoutError() : std::runtime_error("") {}
  using std::runtime_error::runtime_error;
};

/// An operation on a Future or Task in the wrong state
/// (`asyncio.InvalidStateError`), e.g. `result()` before it is done.
class InvalidStateError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// Python's name for the type of `e`, for messages and reprs: `CancelledError`,
/// `TimeoutError`, `InvalidStateError`, `RuntimeError` (std::runtime_error and
/// asyncio::RuntimeError), `ValueError` (std::invalid_argument, std::domain_error),
/// `IndexError` (std::out_of_range), `OverflowError`, `MemoryError`
/// (std::bad_alloc), `Exception` (any other std::exception); other types by
/// their demangled C++ name.
std::string exception_type_name(const std::exception_ptr& e);
/// The message of `e` (`str(exc)` in Python): what() for std::exception and
/// BaseException, empty otherwise.
std::string exception_message(const std::exception_ptr& e);
/// `repr(exc)`: `RuntimeError('Too big number')`, `TimeoutError()`.
std::string exception_repr(const std::exception_ptr& e);

}  // namespace asyncio
