#pragma once
/// \file threads.hpp
/// asyncio.to_thread (CPython's asyncio/threads.py): a blocking call in the running loop's
/// default executor, awaited from a coroutine.
///
/// Python                                         C++
/// ---------------------------------------------  ---------------------------------------------
/// r = await asyncio.to_thread(fn, x)              auto r = co_await asyncio::to_thread(fn, x);

#include <type_traits>
#include <utility>

#include "asyncio/coroutines.hpp"
#include "asyncio/events.hpp"

namespace asyncio {

/// Runs fn(args...) in the running loop's default executor and returns its result
/// (asyncio.to_thread): `auto data = co_await asyncio::to_thread(read_file, path);`.
/// The function and arguments are copied into the coroutine, so temporaries are safe.
template <class F, class... Args>
Coro<detail::executor_result_t<F, Args...>> to_thread(F fn, Args... args) {
  auto future = get_running_loop().run_in_executor(nullptr, std::move(fn), std::move(args)...);
  if constexpr (std::is_void_v<detail::executor_result_t<F, Args...>>) {
    co_await future;
  } else {
    co_return std::move(co_await future);
  }
}

}  // namespace asyncio
