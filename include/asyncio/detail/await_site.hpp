#pragma once
/// \file detail/await_site.hpp
/// Debug mode's source locations (graph.hpp's dump, the slow-step report, the
/// never-retrieved and never-awaited reports): where each suspended `co_await`
/// is, where a task was created, where a coroutine is defined. Not public API.
///
/// The locations cost nothing in a coroutine frame or promise: they are default
/// arguments (`__builtin_FILE()`, `__builtin_LINE()`: what
/// `std::source_location::current()` gives, and clang 14 has no
/// std::source_location with libstdc++ 12), kept in a per-thread side table
/// keyed by promise (src/debug_origin.cpp) only while a loop in debug mode runs
/// (`t_record_origins`). With debug mode off a co_await pays one predictable
/// branch on that thread-local flag, create_task the same.
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

/// Debug mode: the promise `p` suspends (or is about to) at the co_await at `site`.
void note_await_site(const TaskCore* p, CallSite site) noexcept;
/// Debug mode: the task `p` was created by the create_task call at `site`.
void note_created_at(const TaskCore* p, CallSite site) noexcept;
/// "file:line" of the last co_await of `p` recorded in debug mode, or empty.
std::string await_site_of(const TaskCore* p);
/// "file:line" of the definition of the coroutine whose promise is `p`, or
/// empty. The line is where the compiler constructs the promise: the line of
/// the function's name with clang, of its closing brace with g++ 12.
std::string definition_of(const TaskCore* p);

/// Forwards every call to the awaiter it refers to. g++ 12 copies an awaiter
/// that `await_transform` or `operator co_await` returns by reference (it
/// would await a copy, and refuse a non-copyable one), so a reference is
/// wrapped in this (a pointer, copied for free) instead. Always inlined: g++
/// would otherwise keep a forwarding call where the awaiter's own body was
/// inlined (W2 lost 77 instructions per round trip).
template <class A>
struct AwaiterRef {
  A&& a;
  [[gnu::always_inline]] bool await_ready() { return a.await_ready(); }
  template <class H>
  [[gnu::always_inline]] decltype(auto) await_suspend(H h) {
    return a.await_suspend(h);
  }
  [[gnu::always_inline]] decltype(auto) await_resume() { return static_cast<A&&>(a).await_resume(); }
};

/// What `co_await a` awaits, returned by the promise's `await_transform`:
/// `a.operator co_await()`, or a free `operator co_await(a)`, or `a` itself
/// by reference (see AwaiterRef; the temporary it refers to lives until the end
/// of the full expression of the co_await, across the suspension). Returning
/// the awaiter itself (not a wrapper with an operator co_await) keeps the
/// frame as it was for awaitables with an operator co_await (Coro, Task,
/// Future, Lock, ...); an awaiter awaited directly (Queue::get(), sleep())
/// costs the frame the 8 bytes of the AwaiterRef.
template <class A>
[[gnu::always_inline]] inline decltype(auto) awaiter_for_site(A&& a) {
  if constexpr (requires { static_cast<A&&>(a).operator co_await(); }) {
    return static_cast<A&&>(a).operator co_await();
  } else if constexpr (requires { operator co_await(static_cast<A&&>(a)); }) {
    return operator co_await(static_cast<A&&>(a));
  } else {
    return AwaiterRef<A>{static_cast<A&&>(a)};
  }
}

}  // namespace asyncio::detail
