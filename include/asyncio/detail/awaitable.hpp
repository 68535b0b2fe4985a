#pragma once
/// \file detail/awaitable.hpp
/// Traits for "anything `co_await` accepts" (Python's awaitables), used by the
/// combinators (tasks.hpp), timeouts and task groups. Not public API.
#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

namespace asyncio::detail {

/// The awaiter `co_await a` would use: `a.operator co_await()` when there is
/// one, else `a` itself (our types define member operator co_await only).
template <class A>
  requires requires(A&& a) { std::forward<A>(a).operator co_await(); }
decltype(auto) get_awaiter(A&& a) {
  return std::forward<A>(a).operator co_await();
}
template <class A>
  requires(!requires(A&& a) { std::forward<A>(a).operator co_await(); } &&
           requires(A&& a) { a.await_ready(); })
A&& get_awaiter(A&& a) {
  return std::forward<A>(a);
}

/// Something `co_await` accepts.
template <class A>
concept Awaitable = requires(A&& a) {
  { get_awaiter(std::forward<A>(a)).await_ready() } -> std::convertible_to<bool>;
  get_awaiter(std::forward<A>(a)).await_resume();
};

/// The type of `co_await std::declval<A>()`, without reference and cv.
template <class A>
using await_value_t = std::remove_cvref_t<decltype(get_awaiter(std::declval<A>()).await_resume())>;

/// What an `async with` body given to Timeout::async_with / TaskGroup::async_with
/// is turned into: `body(arg)` or `body()` when body is callable, else body
/// itself (a coroutine object or another awaitable), moved.
template <class Body, class Arg>
decltype(auto) start_body(Body& body, Arg& arg) {
  if constexpr (std::is_invocable_v<Body&, Arg&>) {
    return std::invoke(body, arg);
  } else if constexpr (std::is_invocable_v<Body&>) {
    return std::invoke(body);
  } else {
    static_assert(Awaitable<Body&&>, "an async-with body must be awaitable or a callable returning an awaitable");
    return std::move(body);
  }
}

/// The value of an `async with` body.
template <class Body, class Arg>
using body_result_t = await_value_t<decltype(start_body(std::declval<Body&>(), std::declval<Arg&>()))>;

}  // namespace asyncio::detail
