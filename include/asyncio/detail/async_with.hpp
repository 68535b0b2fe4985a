#pragma once
/// \file detail/async_with.hpp
/// The one body of `async with cm: body` for our asynchronous context managers
/// (Timeout::async_with, TaskGroup::async_with). Not public API.
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "asyncio/coroutines.hpp"
#include "asyncio/detail/awaitable.hpp"

namespace asyncio::detail {

/// `async with cm: return await body`: `cm.enter()` (`__aenter__`), the body
/// (see start_body), then `cm.exit(exc)` (`__aexit__`, awaited when it is a
/// coroutine) with the exception that left the body, or null; the exception
/// is rethrown after exit unless exit raised another one itself (TimeoutError
/// for an expired Timeout). Returns the body's value. `cm` must outlive the
/// returned coroutine.
template <class Cm, class Body>
Coro<body_result_t<Body, Cm>> async_with(Cm& cm, Body body) {
  using R = body_result_t<Body, Cm>;
  cm.enter();
  std::exception_ptr exc;
  std::optional<std::conditional_t<std::is_void_v<R>, std::monostate, R>> result;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await start_body(body, cm);
    } else {
      result.emplace(co_await start_body(body, cm));
    }
  } catch (...) {
    exc = std::current_exception();
  }
  if constexpr (std::is_void_v<decltype(cm.exit(exc))>) {
    cm.exit(exc);
  } else {
    co_await cm.exit(exc);
  }
  if (exc) std::rethrow_exception(exc);
  if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

}  // namespace asyncio::detail
