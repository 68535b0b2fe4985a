#pragma once
/// \file repr.hpp
/// `asyncio::py_repr(x)`: Python's `repr(x)` for the values a C++ twin of a
/// Python program prints, so that both print the same text.
///
/// | C++ value                                   | prints as (Python)            |
/// |---------------------------------------------|-------------------------------|
/// | `std::string`, `std::string_view`, `const char*`, `char` | `'text'` (`"it's"` when it holds a `'`) |
/// | `bool`                                      | `True`, `False`               |
/// | integers                                    | `42`                          |
/// | `double`, `float`                           | `0.1`, `1.0`, `1e-05`, `inf`  |
/// | `std::monostate`, `std::nullopt`, an empty `std::optional` | `None`         |
/// | `std::optional<T>` holding a value          | the value's repr              |
/// | `std::exception_ptr`                        | `ValueError('bad')` (exception_repr) |
/// | `std::vector`, `std::list`, other ranges    | `[1, 2]`                      |
/// | `std::tuple`, `std::pair`                   | `(1, 'a')`, `(1,)`            |
/// | `std::map`, `std::unordered_map`            | `{'a': 1}`                    |
/// | anything else                               | its `operator<<`, else `...`  |
///
/// ```cpp
/// std::vector<std::string> names{"a", "b"};
/// fmt::print("{}\n", asyncio::py_repr(names));   // Python: print(repr(names)) -> ['a', 'b']
/// ```
///
/// (Sets print in their iteration order, which for unordered containers is
/// not Python's.)
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <ostream>
#include <ranges>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>

#include "asyncio/exceptions.hpp"

namespace asyncio::detail {
/// Python's `repr(str)`: `'text'` (double quotes when the text has a single
/// quote and no double quote), for reprs that show strings (src/repr.cpp).
std::string py_str_repr(std::string_view s);
}  // namespace asyncio::detail

namespace asyncio {

template <class T>
void py_repr_to(std::ostream& os, const T& v);

namespace detail {

/// Python's float repr: the shortest text that reads back as the same
/// double, with `.0` on integral values and exponent form below 1e-4 and
/// from 1e16 on (`repr(1e16)` is `'1e+16'`).
std::string py_float_repr(double v);

template <class T>
inline constexpr bool is_optional_v = false;
template <class T>
inline constexpr bool is_optional_v<std::optional<T>> = true;
template <class T>
inline constexpr bool is_tuple_like_v = false;
template <class... T>
inline constexpr bool is_tuple_like_v<std::tuple<T...>> = true;
template <class A, class B>
inline constexpr bool is_tuple_like_v<std::pair<A, B>> = true;
template <class T>
inline constexpr bool is_map_v = false;
template <class K, class V, class C, class A>
inline constexpr bool is_map_v<std::map<K, V, C, A>> = true;
template <class K, class V, class H, class E, class A>
inline constexpr bool is_map_v<std::unordered_map<K, V, H, E, A>> = true;

}  // namespace detail

/// Writes `repr(v)` to `os`; see the file comment.
template <class T>
void py_repr_to(std::ostream& os, const T& v) {
  if constexpr (std::is_same_v<T, std::monostate> || std::is_same_v<T, std::nullopt_t> ||
                std::is_same_v<T, std::nullptr_t>) {
    os << "None";
  } else if constexpr (std::is_same_v<T, bool>) {
    os << (v ? "True" : "False");
  } else if constexpr (std::is_same_v<T, char>) {
    os << detail::py_str_repr(std::string_view(&v, 1));
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    os << detail::py_str_repr(std::string_view(v));
  } else if constexpr (std::is_integral_v<T>) {
    os << +v;
  } else if constexpr (std::is_floating_point_v<T>) {
    os << detail::py_float_repr(static_cast<double>(v));
  } else if constexpr (std::is_same_v<T, std::exception_ptr>) {
    os << exception_repr(v);
  } else if constexpr (detail::is_optional_v<T>) {
    if (v) {
      py_repr_to(os, *v);
    } else {
      os << "None";
    }
  } else if constexpr (detail::is_tuple_like_v<T>) {
    os << '(';
    std::apply(
        [&os](const auto&... x) {
          const char* sep = "";
          ((os << sep, py_repr_to(os, x), sep = ", "), ...);
        },
        v);
    os << (std::tuple_size_v<T> == 1 ? ",)" : ")");
  } else if constexpr (detail::is_map_v<T>) {
    os << '{';
    const char* sep = "";
    for (const auto& [key, value] : v) {
      os << sep;
      py_repr_to(os, key);
      os << ": ";
      py_repr_to(os, value);
      sep = ", ";
    }
    os << '}';
  } else if constexpr (std::ranges::input_range<const T>) {
    os << '[';
    const char* sep = "";
    for (const auto& x : v) {
      os << sep;
      py_repr_to(os, x);
      sep = ", ";
    }
    os << ']';
  } else if constexpr (requires { os << v; }) {
    os << v;
  } else {
    os << "...";
  }
}

/// Python's `repr(v)`; see the file comment.
template <class T>
std::string py_repr(const T& v) {
  std::ostringstream os;
  py_repr_to(os, v);
  return os.str();
}

}  // namespace asyncio
