#pragma once
/// \file detail/await_site.hpp
/// Debug mode's source locations (the never-retrieved and never-awaited
/// reports): where a task was created, where a coroutine is defined. Not
/// public API.
///
/// The locations cost nothing in a coroutine frame or promise: they are default
/// arguments (`__builtin_FILE()`, `__builtin_LINE()`: what
/// `std::source_location::current()` gives, and clang 14 has no
/// std::source_location with libstdc++ 12), kept in a per-thread side table
/// keyed by promise (src/debug_origin.cpp) only while a loop in debug mode runs
/// (`t_record_origins`); create_task pays one predictable branch on that flag.
/// The site of each suspended co_await is not recorded: the only hook, the
/// promise's await_transform, costs every frame 8 bytes per directly awaited
/// awaiter with debug mode off, and clang 14 kept the awaited temporary on the
/// stack across the suspension (ASan: stack-buffer-underflow). The task dump
/// names each frame's coroutine instead.
#include <string>
#include <utility>

#include "asyncio/detail/core.hpp"

namespace asyncio::detail {

/// A source location: `file` as the compiler was given it, `line` from 1.
struct CallSite {
  const char* file = nullptr;
  int line = 0;
  /// The location of the call whose default argument this is.
  static constexpr CallSite current(const char* file = __builtin_FILE(), int line = __builtin_LINE()) noexcept {
    return CallSite{file, line};
  }
};

/// Debug mode: the task `p` was created by the create_task call at `site`.
void note_created_at(const CoroPromise* p, CallSite site) noexcept;
/// "file:line" of the definition of the coroutine whose promise is `p`, or
/// empty. The line is where the compiler constructs the promise: the line of
/// the function's name with clang, of its closing brace with g++ 12.
std::string definition_of(const CoroPromise* p);

}  // namespace asyncio::detail
