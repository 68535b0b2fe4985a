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

}  // namespace asyncio

// ============================================================================
// ExceptionGroup (Python's builtin, raised by TaskGroup). Compiled part:
// src/exception_group.cpp.
// ============================================================================
#include <exception>
#include <iosfwd>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace asyncio {

namespace detail {
/// Python's `repr(str)`: `'text'` (double quotes when the text has a single
/// quote and no double quote), for reprs that show strings.
std::string py_str_repr(std::string_view s);
}  // namespace detail

/// Several exceptions raised together (Python's `ExceptionGroup`): what a
/// TaskGroup throws when children failed. `what()` is Python's `str(eg)`:
/// `unhandled errors in a TaskGroup (2 sub-exceptions)`.
///
/// Python's `except*` clauses map to `take<E>()`, which removes the matching
/// exceptions from the group and returns them as a group of their own; what is
/// left goes on with `throw;` (Python re-raises the unmatched rest):
///
/// ```cpp
/// try {
///   co_await tg.async_with(body);
/// } catch (asyncio::ExceptionGroup& eg) {      // by non-const reference
///   if (auto g = eg.take<std::invalid_argument>()) {   // except* ValueError as g:
///     for (auto& e : g->exceptions()) ...
///   }
///   if (auto g = eg.take<asyncio::TimeoutError>()) {   // except* TimeoutError:
///     ...
///   }
///   if (!eg.empty()) throw;                     // the rest propagates
/// }
/// ```
///
/// Matching is by C++ type (`catch (const E&)` on each leaf) and goes into
/// nested groups, keeping their structure, as `BaseExceptionGroup.split` does.
/// A group may hold any exception, CancelledError included (Python's
/// BaseExceptionGroup and ExceptionGroup are one type here).
class ExceptionGroup : public std::exception {
 public:
  /// Throws std::invalid_argument (ValueError) when `exceptions` is empty.
  ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);

  /// `str(eg)`: the message and the number of sub-exceptions.
  const char* what() const noexcept override { return what_.c_str(); }
  /// The message given to the constructor (`eg.message`).
  const std::string& message() const noexcept { return message_; }
  /// The direct sub-exceptions (`eg.exceptions`), in order.
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }
  /// True after take() removed every sub-exception.
  bool empty() const noexcept { return exceptions_.empty(); }

  /// `eg.split(E)`: {the matching part, the rest}, each a group with the same
  /// message and nesting, or nullopt when empty.
  template <class E>
  std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> split() const {
    if (dynamic_cast<const E*>(static_cast<const std::exception*>(this)) != nullptr)
      return {*this, std::nullopt};
    return split_if(&matches<E>);
  }
  /// `eg.subgroup(E)`: the matching part only.
  template <class E>
  std::optional<ExceptionGroup> subgroup() const {
    return split<E>().first;
  }
  /// An `except* E` clause: removes the matching exceptions from this group
  /// and returns them (nullopt when none matched).
  template <class E>
  std::optional<ExceptionGroup> take() {
    auto [match, rest] = split<E>();
    if (!match) return std::nullopt;
    if (rest) {
      exceptions_ = std::move(rest->exceptions_);
    } else {
      exceptions_.clear();
    }
    update_what();
    return match;
  }

  /// The leaves, depth first (the exceptions of nested groups, not the groups).
  std::vector<std::exception_ptr> leaves() const;

  /// `ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('x')])`.
  friend std::ostream& operator<<(std::ostream& os, const ExceptionGroup& eg);

 private:
  using Predicate = bool (*)(const std::exception_ptr&);
  template <class E>
  static bool matches(const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const E&) {
      return true;
    } catch (...) {
      return false;
    }
  }
  std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> split_if(Predicate pred) const;
  void update_what();

  std::string message_;
  std::vector<std::exception_ptr> exceptions_;
  std::string what_;
};

}  // namespace asyncio
