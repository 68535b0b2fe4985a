#pragma once
/// \file http/server.hpp
/// The HTTP server: `web::Application`, `web::Request`, `web::Response`,
/// `web::AppRunner`, `web::run_app` (aiohttp's `aiohttp.web`: `web_app.py`,
/// `web_request.py`, `web_response.py`, `web_protocol.py`, `web_runner.py`).
///
/// | Python (aiohttp.web) | C++ (asyncio::http::web) |
/// | --- | --- |
/// | `app = web.Application()` | `web::Application app;` |
/// | `app.router.add_get('/page/{n}', handler)` | `app.add_get("/page/{n}", handler);` |
/// | `async def handler(request): ...` | `Coro<web::Response> handler(web::Request&)` |
/// | `request.match_info['n']` | `request.match_info.at("n")` |
/// | `request.query['q']` | `request.query().at("q")` |
/// | `request.method`, `request.path`, `request.headers` | the same members |
/// | `await request.read()` | `request.body` (whole before the handler) |
/// | `web.Response(text='hi', status=201)` | `web::Response{.status = 201, .text = "hi"}` |
/// | `web.Response(body=b, content_type='image/png')` | `.body = b, .content_type = "image/png"` |
/// | `web.json_response({'a': 1})` | `web::json_response(R"({"a": 1})")` |
/// | `raise web.HTTPNotFound()` | `throw web::HTTPException(404)` |
/// | `app.router.add_static('/static', directory)` | `app.add_static("/static", directory);` |
/// | `app.on_response_prepare.append(fn)` | `app.on_response_prepare.push_back(fn);` |
/// | `runner = web.AppRunner(app); await runner.setup()` | `web::AppRunner runner(app);` |
/// | `await web.TCPSite(runner, host, port).start()` | `co_await runner.start(host, port);` |
/// | `web.TCPSite(runner, host, port, ssl_context=ctx)` | `co_await runner.start(host, port, ctx);` |
/// | `await runner.cleanup()` | `co_await runner.cleanup();` |
/// | `web.run_app(app, host=h, port=p)` | `web::run_app(app, h, p);` |
/// | `web.run_app(app, ..., ssl_context=ctx)` | `web::run_app(app, h, p, {.ssl_context = ctx});` |
///
/// ```cpp
/// namespace web = asyncio::http::web;
/// asyncio::Coro<web::Response> page(web::Request& request) {
///   co_await asyncio::sleep(0.1);
///   std::string n = request.match_info.at("n");
///   co_return web::Response{.text = "<h1>" + n + "</h1>", .content_type = "text/html"};
/// }
/// int main() {
///   web::Application app;
///   app.add_get("/page/{n}", page);
///   web::run_app(app, "127.0.0.1", 8080);   // until SIGINT or SIGTERM
/// }
/// ```
///
/// Semantics (HTTP/1.0 and 1.1, parsed by Debian's libhttp-parser; one
/// Protocol per connection, src/http/server_protocol.cpp):
/// - **Routing**: a path is matched segment by segment; `{name}` matches a
///   non-empty run of characters other than '/' (aiohttp's default
///   `[^{}/]+`), with an optional literal prefix and suffix in the same
///   segment (`/file/{name}.html`); routes are tried in the order they were
///   added. No route for the path: 404 "404: Not Found". A route for the path
///   but not the method: 405 "405: Method Not Allowed" with `Allow`.
///   `add_get` also answers HEAD (aiohttp's `allow_head=True`): the same
///   headers, no body. Match values are percent-decoded.
/// - **Static files** (`add_static(prefix, directory)`): GET/HEAD
///   `prefix/<relative path>` answers the file's bytes, its Content-Type
///   guessed from the extension (Python's `mimetypes` for the common ones;
///   else application/octet-stream). As aiohttp's StaticResource: a path
///   that leaves the directory ("..", a symbolic link out) or names no file
///   or is absolute gets 404, a directory 403. The file is read on the
///   default executor (to_thread), never on the loop's thread.
/// - **on_response_prepare**: each callback is awaited, in order, with the
///   request and its response just before the response is written (also for
///   404/405/500 answers, as aiohttp's signal); the place for an access log or
///   extra headers. Not called for the 400/413/431 answers to unparsable
///   requests (no Request exists).
/// - **Keep-alive** (HTTP/1.1 by default, HTTP/1.0 with `Connection:
///   keep-alive`) and **pipelining**: requests on one connection are handled
///   one at a time, in order, and answered in order.
/// - **Bodies**: `Content-Length` or `Transfer-Encoding: chunked` (decoded);
///   the whole body is in `request.body` before the handler runs.
///   `Expect: 100-continue` gets `100 Continue` when the body is acceptable.
/// - **Limits** (`ServerOptions`): a request line plus headers longer than
///   `max_header_size` gets 431 "431: Request Header Fields Too Large"; a body
///   longer than `client_max_size` (1 MiB, aiohttp's default) gets 413
///   "413: Request Entity Too Large"; a malformed request gets 400 "400: Bad
///   Request" naming the parser's error. After any of these the connection is
///   closed (answers owed to earlier pipelined requests are sent first).
/// - **Timeouts**: a connection that is idle between requests for
///   `keepalive_timeout` (75 s, aiohttp's) is closed; a request whose head and
///   body do not arrive whole within `request_timeout` of its first byte
///   (slowloris) gets its connection closed (no answer).
/// - **Errors**: a handler that throws `HTTPException` answers with its
///   status and text; any other exception is logged through the loop's
///   exception handler ("Error handling request") and answered with 500
///   "500 Internal Server Error\n\nServer got itself in trouble" (aiohttp's
///   text); the connection goes on serving.
/// - **Client gone**: when the connection is lost while a handler runs, the
///   handler's task is cancelled (aiohttp 3.8's behaviour).
/// - **Graceful shutdown** (`AppRunner::cleanup()`): stops accepting, closes
///   idle connections, lets in-flight requests finish (their answers carry
///   `Connection: close`), and after `shutdown_timeout` aborts what is left.
///
/// - **HTTPS**: a site started with an SSL context (`ssl::create_default_context(
///   ssl::Purpose::CLIENT_AUTH)` with `load_cert_chain`, ssl.hpp) serves HTTP over
///   the TLS layer of `create_server(..., ssl=)`; everything above holds the
///   same. A client whose TLS handshake fails (no TLS at all, a refused
///   certificate, `ssl_handshake_timeout`) is dropped without an answer and the
///   server goes on; as in asyncio, this is logged only in debug mode.
///
/// Responses: `Response::text` (charset utf-8 is added to its content type,
/// as aiohttp's `text=`) or `Response::body` (bytes); `Content-Length`,
/// `Date`, `Server` and `Connection` are set by the server.
///
/// Thread safety: on the loop's thread only.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asyncio/coroutines.hpp"
#include "asyncio/http/multidict.hpp"
#include "asyncio/http/status.hpp"
#include "asyncio/server.hpp"

namespace asyncio::ssl {
class SSLContext;  // asyncio/ssl.hpp
}  // namespace asyncio::ssl

namespace asyncio::http::web {

/// An HTTP request as the handler sees it (`aiohttp.web.Request`).
struct Request {
  std::string method;        ///< "GET", "POST", ...
  std::string path;          ///< percent-decoded path, without the query (`request.path`)
  std::string raw_path;      ///< the request target as sent (`request.raw_path`)
  std::string query_string;  ///< after '?', not decoded (`request.query_string`)
  CIMultiDict headers;       ///< request headers (`request.headers`)
  std::string body;          ///< the whole body, chunked encoding removed (`await request.read()`)
  CIMultiDict match_info;    ///< the route's `{name}` values (`request.match_info`)
  int version_major = 1;
  int version_minor = 1;
  bool keep_alive = true;  ///< `request.keep_alive`: the connection stays open after the answer

  /// The query string parsed (`request.query`): keys and values percent-decoded, '+' as space.
  CIMultiDict query() const;
  /// `await request.text()`: the body (the bytes as they are; decode non-UTF-8 yourself).
  const std::string& text() const noexcept { return body; }
  /// The Content-Type's media type, lower-cased (`request.content_type`);
  /// "application/octet-stream" when absent.
  std::string content_type() const;
};

/// An HTTP response (`aiohttp.web.Response`): set `text` or `body`.
struct Response {
  // (Each member has an initializer so that designated initializers may leave any out.)
  int status = 200;
  std::string
      text{};  ///< a text body (sent as UTF-8; `; charset=utf-8` is added to the content type)
  std::string body{};          ///< a bytes body (used when `text` is empty)
  std::string content_type{};  ///< "" : "text/plain" for text, "application/octet-stream" for bytes
  CIMultiDict headers{};       ///< extra headers (Content-Length and Connection are the server's)
  std::string reason{};        ///< "" : the standard reason phrase of `status`
};

/// `web.json_response(text=...)`: an application/json response of an already serialized document.
Response json_response(std::string json_text, int status = 200);

/// `aiohttp.web.HTTPException` (`HTTPNotFound`, `HTTPBadRequest`, ...): throw it
/// from a handler to answer with `status` and `text` ("404: Not Found" by default).
class HTTPException : public std::runtime_error {
 public:
  explicit HTTPException(int status, std::string text = {});
  int status() const noexcept { return status_; }
  const std::string& text() const noexcept { return text_; }

 private:
  int status_;
  std::string text_;
};

/// A request handler: a coroutine taking the request (valid until it returns).
using Handler = std::function<Coro<Response>(Request&)>;
/// An `on_response_prepare` callback: `async def on_prepare(request, response)`.
using ResponsePrepareCallback = std::function<Coro<void>(Request&, Response&)>;

/// Routes (`aiohttp.web.Application` with its `UrlDispatcher`).
class Application {
 public:
  Application();
  ~Application();
  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;
  /// Movable until an AppRunner serves it (the runner keeps its address).
  Application(Application&&) noexcept;
  Application& operator=(Application&&) noexcept;

  /// `app.router.add_route(method, path, handler)`; "*" matches any method.
  /// ValueError when `path` does not start with '/' or has an unbalanced '{'.
  void add_route(std::string method, std::string path, Handler handler);
  /// GET (and HEAD).
  void add_get(std::string path, Handler handler);
  void add_post(std::string path, Handler handler);
  void add_put(std::string path, Handler handler);
  void add_delete(std::string path, Handler handler);
  /// `app.router.add_static(prefix, path)`: serves the files under
  /// `directory` at `prefix/...` (see the file comment). ValueError when
  /// `prefix` does not start with '/' or `directory` is not a directory.
  void add_static(std::string prefix, std::string directory);

  /// `app.on_response_prepare`: awaited before each response is sent.
  std::vector<ResponsePrepareCallback> on_response_prepare;

  /// Runs the handler for `request` (sets its match_info): 404, 405 and a
  /// handler's HTTPException become responses; other exceptions propagate.
  [[nodiscard]] Coro<Response> handle(Request& request) const;

  struct Route;

 private:
  std::vector<Route> routes_;
};

/// Limits and timeouts of the server (aiohttp's `RequestHandler` arguments).
struct ServerOptions {
  std::size_t max_header_size = 16 * 1024;    ///< request line + headers, bytes (431 above)
  std::size_t client_max_size = 1024 * 1024;  ///< body, bytes (413 above)
  double keepalive_timeout = 75.0;            ///< seconds idle between requests
  double request_timeout = 30.0;              ///< seconds from a request's first byte to its last
  double shutdown_timeout = 60.0;             ///< seconds cleanup() waits for in-flight requests
  std::size_t max_pipelined = 64;  ///< parsed requests queued per connection before reading pauses
  asyncio::ServerOptions listen{.backlog = 1024};  ///< the listening socket's options
  /// run_app's `ssl_context=`: serve HTTPS with this server context (null: HTTP);
  /// also what `AppRunner::start` uses when it is given none.
  std::shared_ptr<ssl::SSLContext> ssl_context = nullptr;
};

namespace detail {
struct ServerShared;  // src/http/server_protocol.hpp
}  // namespace detail

/// Serves an Application (`web.AppRunner` + `web.TCPSite`). The Application
/// must outlive the runner's cleanup().
class AppRunner {
 public:
  explicit AppRunner(const Application& app, ServerOptions options = {});
  /// Aborts what is left (call cleanup() first for a graceful end).
  ~AppRunner();
  AppRunner(const AppRunner&) = delete;
  AppRunner& operator=(const AppRunner&) = delete;

  /// `web.TCPSite(runner, host, port, ssl_context=...).start()`: listens on
  /// host:port (port 0 picks a free one); may be called for several sites.
  /// With `ssl_context` (else `ServerOptions::ssl_context`) the site serves
  /// HTTPS; ValueError when it is a client context (create_server's check).
  [[nodiscard]] Coro<void> start(std::string host, int port,
                                 std::shared_ptr<ssl::SSLContext> ssl_context = nullptr);
  /// The addresses listened on.
  std::vector<SocketAddress> addresses() const;
  /// The port of the first site (handy after port 0).
  int port() const;
  /// Open connections right now.
  std::size_t connections() const;
  /// Graceful shutdown; see the file comment. Idempotent.
  [[nodiscard]] Coro<void> cleanup();

 private:
  std::shared_ptr<detail::ServerShared> shared_;
  std::vector<std::shared_ptr<Server>> servers_;
};

/// `web.run_app(app, host=..., port=..., ssl_context=...)`: runs a loop, serves
/// until SIGINT or SIGTERM, then cleans up gracefully. Prints aiohttp's banner
/// "======== Running on http://HOST:PORT ========\n(Press CTRL+C to quit)"
/// (https:// with `options.ssl_context`) unless `print_banner` is false.
void run_app(const Application& app, std::string host = "0.0.0.0", int port = 8080,
             ServerOptions options = {}, bool print_banner = true);

/// The coroutine behind run_app, for a program that already runs a loop:
/// serves until SIGINT or SIGTERM arrives (their handlers are removed after).
[[nodiscard]] Coro<void> serve_until_signal(const Application& app, std::string host, int port,
                                            ServerOptions options = {}, bool print_banner = true);

}  // namespace asyncio::http::web
