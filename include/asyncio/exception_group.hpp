#pragma once
/// \file exception_group.hpp
/// ExceptionGroup (Python's builtin, raised by TaskGroup); compiled part:
/// src/exception_group.cpp.
#include <exception>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include "asyncio/exceptions.hpp"

namespace asyncio {


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
  /// Throws ValueError when `exceptions` is empty or holds a null exception_ptr
  /// (Python's messages).
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
    return split_if(&detail::holds<E>);
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

  /// `ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('x')])`;
  /// `BaseExceptionGroup(...)` when a member is not a std::exception (Python's
  /// choice between the two classes).
  friend std::ostream& operator<<(std::ostream& os, const ExceptionGroup& eg);

 private:
  using Predicate = bool (*)(const std::exception_ptr&);
  std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> split_if(Predicate pred) const;
  void update_what();

  std::string message_;
  std::vector<std::exception_ptr> exceptions_;
  std::string what_;
};

}  // namespace asyncio
