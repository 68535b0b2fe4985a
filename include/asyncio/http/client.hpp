#pragma once
/// \file http/client.hpp
/// The HTTP client: `ClientSession` and `ClientResponse` (aiohttp's client,
/// `aiohttp/client.py` and `client_reqrep.py`), on libcurl's multi-socket
/// interface driven by the event loop (libuv poll handles and one timer, the
/// pattern of curl's multi-uv.c; src/http/curl_multi.cpp). curl brings
/// HTTP/1.1 and HTTP/2, TLS, redirects, proxies (the usual `http_proxy`
/// variables, read when the session is made) and decompression.
///
/// | Python (aiohttp)                                          | C++ (asyncio::http)                                   |
/// |-----------------------------------------------------------|-------------------------------------------------------|
/// | `timeout = aiohttp.ClientTimeout(total=5)`                | `ClientTimeout timeout{.total = 5s};`                 |
/// | `async with aiohttp.ClientSession(timeout=timeout) as s:` | `ClientSession s({.timeout = timeout});` ... `co_await s.close();` |
/// | `aiohttp.TCPConnector(limit=100)`                         | `SessionOptions::limit = 100` (the default, as aiohttp's) |
/// | `aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=ca))` | `SessionOptions::ssl = ssl::create_default_context(ssl::Purpose::SERVER_AUTH, ca)` |
/// | `async with s.get(url, allow_redirects=False) as r:`      | `ClientResponse r = co_await s.get(url, {.allow_redirects = false});` |
/// | `s.post(url, data=b"...", headers={...})`                 | `s.post(url, {.headers = {...}, .data = "..."})`      |
/// | `r.status`, `r.reason`, `r.headers['Content-Type']`       | `r.status`, `r.reason`, `r.headers.at("Content-Type")` |
/// | `r.content_type`, `r.charset`, `r.url`                    | `r.content_type()`, `r.charset()`, `r.url`            |
/// | `await r.read()` / `await r.text()`                       | `co_await r.read()` / `co_await r.text()`             |
/// | `len(await r.text())`                                     | `asyncio::http::len(co_await r.text())`               |
/// | `r.raise_for_status()`                                    | `r.raise_for_status()`                                |
///
/// ```cpp
/// asyncio::Coro<> fetch(std::string url) {
///   asyncio::http::ClientSession session({.timeout = {.total = 5s}});
///   auto response = co_await session.get(url);
///   std::string text = co_await response.text();
///   fmt::print("{} {} characters\n", response.status, asyncio::http::len(text));
///   co_await session.close();
/// }
/// ```
///
/// Semantics, as aiohttp's where they can be:
/// - **Connections** are reused within a session (one curl multi handle per
///   session: its connection cache and DNS cache). At most `limit`
///   requests are in flight at once (0: no limit); further requests wait
///   their turn in FIFO order, as aiohttp's TCPConnector queues them, and curl
///   never opens more connections than `limit`
///   (CURLMOPT_MAX_TOTAL_CONNECTIONS). `limit_per_host` caps the connections
///   to one host (CURLMOPT_MAX_HOST_CONNECTIONS); requests beyond it wait
///   inside curl, in order. A session with a limit above 256 and no per-host
///   limit spreads its requests over several curl multi handles of about 128
///   connections each (their shares add up to `limit`; curl's own bookkeeping
///   costs grow with the connections of one handle), and reuses a connection
///   within its handle; their new connections are opened one handle's worth
///   per loop iteration, so that the requests of the first ones go out while
///   the others connect. Easy handles are reused from request to request and
///   freed when the session closes.
/// - **Memory** (glibc on Linux): a session with a `limit` of 256 or more
///   (and `SessionOptions::huge_page_heap`, true by default)
///   grows the heap at once by 16 KiB per connection (what curl and the
///   client allocate for one; 64 MiB at most) and advises it
///   MADV_HUGEPAGE, and from then on the heap's growth too (checked when
///   curl opens a socket), as glibc's `glibc.malloc.hugetlb=1` tunable would, so
///   that a burst of new connections costs a page fault per 2 MiB rather than
///   per 4 KiB (10,000 downloads 2,000 at once: 8,650 faults -> ~1,900). The
///   process-wide costs: malloc keeps that much free at the top of the heap
///   for reuse (mallopt M_TOP_PAD) instead of returning it to the system, the
///   heap's pages are 2 MiB where THP is on, and, a side effect of any
///   mallopt setting, malloc's adaptive mmap threshold stays at its value
///   (128 KiB unless it had grown): larger blocks are mapped each time.
///   Nothing of this under ASan or TSan (their allocator is not glibc's).
/// - **The body** is read while the request runs: `get()` returns when the
///   whole response has arrived (one difference from aiohttp, which returns
///   after the headers; the total timeout covers the same span either way).
///   A body cut short (or badly compressed) does not fail `get()`: as in
///   aiohttp, `read()`/`text()` throw ClientPayloadError, and `status` and
///   `headers` stay readable.
/// - **Timeout**: `ClientTimeout::total` (5 minutes by default, as aiohttp)
///   bounds the whole request, queueing for a connection included; when it
///   passes, the request is removed from curl and `asyncio::TimeoutError` is
///   thrown (as `asyncio.timeout`; measured on the loop's clock).
/// - **Cancellation** (task.cancel(), a timeout, wait_for): the transfer is
///   removed from curl when the task resumes with CancelledError, and its
///   easy handle freed; its connection is closed by curl, never leaked.
/// - **Redirects** are followed (at most `max_redirects`, then
///   TooManyRedirects) unless `allow_redirects` is false; `url` is then the
///   final URL.
/// - **Decompression**: gzip and deflate bodies are decoded (curl's
///   CURLOPT_ACCEPT_ENCODING), as aiohttp does; `Accept-Encoding` is sent.
/// - **Text**: `text()` decodes with `encoding`, else the response's
///   charset, else UTF-8, and returns UTF-8 (`std::string`). A body that is
///   not valid in that charset throws UnicodeDecodeError (Python's
///   `errors='strict'`). `len(text)` counts code points, as Python's
///   `len(str)`; `text.size()` counts bytes.
/// - **TLS**: https URLs are verified against the system's CAs with host
///   name checking, as aiohttp's default. `SessionOptions::ssl` (aiohttp's
///   `TCPConnector(ssl=context)`) replaces that with a client SSLContext
///   (ssl.hpp): its CA store, its `verify_mode` (CERT_NONE: no verification,
///   aiohttp's `ssl=False`), its `check_hostname` and its client certificate
///   are what curl uses (src/http/client_ssl.cpp). A refused certificate
///   throws ClientConnectorError naming OpenSSL's reason ("Cannot connect to
///   host 127.0.0.1:PORT ssl:default [SSL certificate problem: certificate has
///   expired], url=URL('https://...')"); aiohttp's subclass for it, ClientConnectorCertificateError, is
///   not separate here.
/// - **Errors** are the ClientError family (client_exceptions.hpp); a request
///   on a closed session throws RuntimeError("Session is closed").
/// - **Closing**: `co_await session.close()` (or the destructor) ends the
///   requests still in flight with ClientConnectionError("Session is closed"),
///   closes curl's connections and the loop handles.
///
/// Thread safety: a session and its responses belong to the loop that was
/// running when the session was made; use them from that loop's thread, and
/// close or destroy the session before the loop closes.
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "asyncio/coroutines.hpp"
#include "asyncio/http/client_exceptions.hpp"
#include "asyncio/http/multidict.hpp"

namespace asyncio::ssl {
class SSLContext;  // asyncio/ssl.hpp
}  // namespace asyncio::ssl

namespace asyncio::http {

/// Timeouts of a request (`aiohttp.ClientTimeout`); only `total` for now.
struct ClientTimeout {
  /// The whole request, from the call to the last byte; nullopt: none.
  std::optional<std::chrono::duration<double>> total = std::chrono::minutes(5);
};

/// What `ClientSession(...)` takes (aiohttp's keyword arguments and connector).
struct SessionOptions {
  /// The default timeout of every request.
  ClientTimeout timeout{};
  /// Headers sent with every request, unless the request sets them.
  CIMultiDict headers{};
  /// Requests in flight at once, and connections (`TCPConnector(limit=100)`); 0: no limit.
  std::size_t limit = 100;
  /// Connections to one host (`TCPConnector(limit_per_host=0)`); 0: no limit.
  std::size_t limit_per_host = 0;
  /// `TCPConnector(ssl=context)`: a client SSLContext for https (see the file
  /// comment); null: the system's CAs, verification on.
  std::shared_ptr<ssl::SSLContext> ssl = nullptr;
  /// With a `limit` of 256 or more, grow and advise glibc's heap for huge
  /// pages (see **Memory** in the file comment); false leaves malloc's
  /// settings alone (no aiohttp counterpart: a C++ process shares one heap).
  bool huge_page_heap = true;
};

/// What `session.request(...)` takes besides the method and URL.
struct RequestOptions {
  /// Replaces the session's timeout for this request.
  std::optional<ClientTimeout> timeout{};
  bool allow_redirects = true;
  int max_redirects = 10;
  /// Added to (and overriding) the session's default headers.
  CIMultiDict headers{};
  /// The request body (`data=`), sent as is.
  std::optional<std::string> data{};
};

/// `UnicodeDecodeError`: a body that is not valid text in its charset, or a
/// charset that iconv does not know (Python's LookupError, folded in here).
class UnicodeDecodeError : public std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Python's `len(s)` for a UTF-8 string: the number of code points (what
/// `text()` returns holds `len(text)` characters and `text.size()` bytes).
std::size_t len(std::string_view utf8) noexcept;

namespace detail {
struct ResponseBody;  // the session's access to a response's body (client.cpp)
}

/// A received response (`aiohttp.ClientResponse`): a plain value, its body included.
class ClientResponse {
 public:
  std::string method;
  /// The final URL (after redirects), as curl reports it.
  std::string url;
  int status = 0;
  /// The status line's reason phrase ("OK"); HTTP/2 has none, so the standard phrase.
  std::string reason;
  /// The final response's headers, as received.
  CIMultiDict headers;

  /// The media type of Content-Type, lower-cased, without parameters
  /// ("text/html"); "application/octet-stream" when absent (as aiohttp).
  std::string content_type() const;
  /// The `charset` parameter of Content-Type as sent (unquoted), or nullopt (as aiohttp).
  std::optional<std::string> charset() const;
  /// status < 400.
  bool ok() const noexcept { return status < 400; }
  /// Throws ClientResponseError(status, reason) when status >= 400.
  void raise_for_status() const;

  /// The body, decompressed (`await response.read()`); ClientPayloadError if it was cut short.
  Coro<std::string> read();
  /// The body decoded to UTF-8 (`await response.text(encoding)`); see the file comment.
  Coro<std::string> text(std::string encoding = {});

  friend std::ostream& operator<<(std::ostream& os, const ClientResponse& r);

 private:
  friend struct detail::ResponseBody;
  std::string body_;
  std::exception_ptr payload_error_;  // the body was cut short: read() throws it
};

namespace detail {
struct SessionState;
/// Easy handles held by requests in this process (tests check that none leak).
int live_easy_handles() noexcept;
/// Easy handles allocated in this process: those held by requests, and the
/// idle ones a session keeps for its next requests until it is closed.
int allocated_easy_handles() noexcept;
/// Sockets curl has open in this process (tests check that none leak).
int live_sockets() noexcept;
}  // namespace detail

/// A session of HTTP requests sharing connections (`aiohttp.ClientSession`).
/// Make it inside a running loop. Move-only.
class ClientSession {
 public:
  explicit ClientSession(SessionOptions options = {});
  ClientSession(ClientSession&&) noexcept;
  ClientSession& operator=(ClientSession&&) noexcept;
  ~ClientSession();

  /// `session.request(method, url, ...)`: sends the request and returns the response.
  Coro<ClientResponse> request(std::string method, std::string url, RequestOptions options = {});
  /// `session.get(url, ...)`.
  Coro<ClientResponse> get(std::string url, RequestOptions options = {});
  /// `session.post(url, data=..., ...)`: the body is `options.data`.
  Coro<ClientResponse> post(std::string url, RequestOptions options = {});
  /// `await session.close()`: ends requests in flight, closes the connections.
  Coro<void> close();
  /// `session.closed`.
  bool closed() const noexcept;

  /// Requests in flight in curl, and requests waiting for a free slot.
  std::size_t in_flight() const noexcept;
  std::size_t waiting() const noexcept;

  /// `<ClientSession in_flight=N waiting=M limit=L>` (or `closed`).
  friend std::ostream& operator<<(std::ostream& os, const ClientSession& s);

 private:
  std::shared_ptr<detail::SessionState> state_;
};

}  // namespace asyncio::http
