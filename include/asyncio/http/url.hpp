#pragma once
/// \file http/url.hpp
/// `urlparse` and `urljoin` (Python's `urllib.parse`), on Debian's
/// liburiparser (RFC 3986). The name follows what they parse: URLs; the
/// module they mirror is `urllib.parse`.
///
/// | Python                                   | C++ (asyncio::http)                          |
/// |------------------------------------------|----------------------------------------------|
/// | `p = urlparse(url)`                      | `ParseResult p = urlparse(url);`             |
/// | `p.scheme, p.netloc, p.path`             | `p.scheme, p.netloc, p.path`                 |
/// | `p.params, p.query, p.fragment`          | `p.params, p.query, p.fragment`              |
/// | `p.hostname, p.port`                     | `p.hostname()` (optional), `p.port()` (optional) |
/// | `p.geturl()` / `urlunparse(p)`           | `p.geturl()`                                 |
/// | `urljoin(base, url)`                     | `urljoin(base, url)`                         |
///
/// The components are the text of the URL as given (only the scheme is
/// lower-cased, as Python does); `params` is split off the last path segment
/// at ';', as urlparse does. tests/test_http_url.cpp checks both functions
/// against CPython's on a table of cases (tests/data/url_cases.json, made by
/// tests/data/url_cases.py).
///
/// urljoin follows Python's rules around RFC 3986 §5.2: a reference with
/// another scheme, or with its own netloc, is returned as written; the rest
/// is resolved by uriparser (dot segments removed).
///
/// Where they differ from Python, deliberately: Python never rejects
/// anything; here text that is not a URI reference by RFC 3986 (spaces, a bad
/// percent escape, a bad IPv6 literal) throws ValueError("Invalid URL:
/// '...'"), the nearest of Python's own errors (`urlparse('http://[::1')`
/// raises ValueError too).
///
/// Thread safety: pure functions.
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace asyncio::http {

/// What urlparse returns (`urllib.parse.ParseResult`).
struct ParseResult {
  std::string scheme;
  std::string netloc;
  std::string path;
  std::string params;
  std::string query;
  std::string fragment;

  /// The host, lower-cased, without brackets or port (`p.hostname`); nullopt without a netloc.
  std::optional<std::string> hostname() const;
  /// The port (`p.port`); nullopt when none; ValueError when not a number in 0-65535.
  std::optional<int> port() const;
  /// The URL put back together (`p.geturl()`, `urlunparse(p)`).
  std::string geturl() const;

  friend bool operator==(const ParseResult&, const ParseResult&) = default;
  /// `ParseResult(scheme='http', netloc='a', path='/b', params='', query='', fragment='')`.
  friend std::ostream& operator<<(std::ostream& os, const ParseResult& p);
};

/// Splits `url` into its six components (`urllib.parse.urlparse(url)`).
ParseResult urlparse(std::string_view url);

/// Resolves `url` against `base` (`urllib.parse.urljoin(base, url)`, RFC 3986 §5.2).
std::string urljoin(std::string_view base, std::string_view url);

}  // namespace asyncio::http
