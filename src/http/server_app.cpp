// web::Application (routing), Request, Response helpers, AppRunner and run_app
// (aiohttp's web_app.py, web_urldispatcher.py, web_runner.py, web.py).
#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>

#include "asyncio/exceptions.hpp"
#include "asyncio/executors.hpp"
#include "asyncio/http/server.hpp"
#include "asyncio/locks.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/ssl.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/tasks_combinators.hpp"
#include "http/server_protocol.hpp"

namespace asyncio::http::web {

// ---- helpers ------------------------------------------------------------------------

namespace detail {

namespace {
int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string unquote(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_as_space && c == '+') ? ' ' : c;
  }
  return out;
}

void split_target(Request& request) {
  std::string_view target = request.raw_path;
  if (auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  std::string_view path = target;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    request.query_string.assign(target.substr(q + 1));
  }
  // An absolute-form target ("http://host/path") keeps only its path.
  if (!path.empty() && path.front() != '/') {
    auto scheme = path.find("://");
    if (scheme != std::string_view::npos) {
      auto slash = path.find('/', scheme + 3);
      path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
    }
  }
  request.path = path.find('%') == std::string_view::npos ? std::string(path) : unquote(path);
}

Response plain_response(int status, std::string text) {
  Response r;
  r.status = status;
  r.text = std::move(text);
  return r;
}

}  // namespace detail

CIMultiDict Request::query() const {
  CIMultiDict out;
  std::string_view qs = query_string;
  while (!qs.empty()) {
    auto amp = qs.find('&');
    std::string_view pair = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view() : qs.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    out.add(detail::unquote(key, true), detail::unquote(value, true));
  }
  return out;
}

std::string Request::content_type() const {
  auto ct = headers.get("Content-Type");
  if (!ct) return "application/octet-stream";
  std::string_view v = *ct;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  return ascii_lower(std::string(v));
}

Response json_response(std::string json_text, int status) {
  Response r;
  r.status = status;
  r.text = std::move(json_text);
  r.content_type = "application/json";
  return r;
}

HTTPException::HTTPException(int status, std::string text)
    : std::runtime_error(
          text.empty() ? std::to_string(status) + ": " + std::string(reason_phrase(status)) : text),
      status_(status),
      text_(what()) {}

// ---- routing ------------------------------------------------------------------------

/// One route: the method and the path split into segments; a segment is
/// literal, or `prefix{name}suffix`.
struct Application::Route {
  struct Segment {
    std::string literal;  // the whole segment when name is empty, else the prefix
    std::string name;
    std::string suffix;
  };
  std::string method;
  std::string path;
  std::vector<Segment> segments;
  Handler handler;
  bool is_static = false;  // add_static: `path` is a prefix; the rest is match_info["filename"]

  /// Matches `path` and fills `match_info` (percent-decoded values).
  bool match(std::string_view path, CIMultiDict& match_info) const {
    if (is_static) {
      if (path.size() <= this->path.size() + 1 || !path.starts_with(this->path) || path[this->path.size()] != '/')
        return false;
      std::string_view rest = path.substr(this->path.size() + 1);
      match_info.add("filename", rest.find('%') == std::string_view::npos ? std::string(rest) : detail::unquote(rest));
      return true;
    }
    std::size_t pos = 1;  // after the leading '/'
    if (path.empty() || path.front() != '/') return false;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      auto end = path.find('/', pos);
      if (end == std::string_view::npos) end = path.size();
      if (i + 1 == segments.size() && end != path.size()) return false;
      if (pos > path.size()) return false;
      std::string_view seg = path.substr(pos, end - pos);
      const Segment& s = segments[i];
      if (s.name.empty()) {
        if (seg != s.literal) return false;
      } else {
        if (seg.size() <= s.literal.size() + s.suffix.size()) return false;
        if (!seg.starts_with(s.literal) || !seg.ends_with(s.suffix)) return false;
        std::string_view value =
            seg.substr(s.literal.size(), seg.size() - s.literal.size() - s.suffix.size());
        if (value.find_first_of("{}") != std::string_view::npos) return false;
        match_info.add(s.name, value.find('%') == std::string_view::npos ? std::string(value)
                                                                         : detail::unquote(value));
      }
      pos = end + 1;
    }
    return pos >= path.size();
  }
};

Application::Application() = default;
Application::~Application() = default;
Application::Application(Application&&) noexcept = default;
Application& Application::operator=(Application&&) noexcept = default;

void Application::add_route(std::string method, std::string path, Handler handler) {
  if (path.empty() || path.front() != '/')
    throw ValueError("path should be started with / or be empty");
  if (!handler) throw ValueError("handler is empty");
  Route route;
  route.method = std::move(method);
  for (auto& c : route.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  route.path = path;
  std::string_view rest = std::string_view(path).substr(1);
  while (true) {
    auto slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    Route::Segment s;
    auto open = seg.find('{');
    auto close = seg.find('}');
    if (open == std::string_view::npos && close == std::string_view::npos) {
      s.literal = std::string(seg);
    } else if (open == std::string_view::npos || close == std::string_view::npos ||
               close < open + 2 || seg.find('{', open + 1) != std::string_view::npos ||
               seg.find('}', close + 1) != std::string_view::npos) {
      throw ValueError("Invalid path '" + path + "'['" + std::string(seg) + "']");
    } else {
      s.literal = std::string(seg.substr(0, open));
      s.name = std::string(seg.substr(open + 1, close - open - 1));
      s.suffix = std::string(seg.substr(close + 1));
    }
    route.segments.push_back(std::move(s));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

void Application::add_get(std::string path, Handler handler) {
  add_route("GET", std::move(path), std::move(handler));
}
void Application::add_post(std::string path, Handler handler) {
  add_route("POST", std::move(path), std::move(handler));
}
void Application::add_put(std::string path, Handler handler) {
  add_route("PUT", std::move(path), std::move(handler));
}
void Application::add_delete(std::string path, Handler handler) {
  add_route("DELETE", std::move(path), std::move(handler));
}

namespace {

/// Python's mimetypes.guess_type for the usual web files.
std::string guess_type(const std::filesystem::path& file) {
  static const std::pair<const char*, const char*> types[] = {
      {".html", "text/html"},        {".htm", "text/html"},        {".txt", "text/plain"},
      {".css", "text/css"},          {".js", "text/javascript"},   {".json", "application/json"},
      {".svg", "image/svg+xml"},     {".png", "image/png"},        {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},       {".gif", "image/gif"},        {".ico", "image/vnd.microsoft.icon"},
      {".pdf", "application/pdf"},   {".xml", "application/xml"},  {".wasm", "application/wasm"}};
  std::string ext = ascii_lower(file.extension().string());
  for (const auto& [e, type] : types)
    if (ext == e) return type;
  return "application/octet-stream";
}

/// The answer for `filename` under `root` (canonical), computed on a worker thread:
/// the file's bytes, or the status of aiohttp's StaticResource._handle.
struct StaticFile {
  int status = 200;
  std::string bytes;
  std::string content_type;
  template <class Archive>
  void serialize(Archive& archive) {  // executors.hpp's result types are serializable
    archive(status, bytes, content_type);
  }
};

StaticFile read_static(const std::string& directory, const std::string& filename) {
  namespace fs = std::filesystem;
  const fs::path root = directory;
  if (!filename.empty() && filename.front() == '/') return {404, {}, {}};  // absolute: aiohttp 3.8 answers 404
  std::error_code ec;
  fs::path file = fs::weakly_canonical(root / filename, ec);
  if (ec) return {404, {}, {}};
  auto [end, _] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  if (end != root.end()) return {404, {}, {}};  // outside the directory
  if (fs::is_directory(file, ec)) return {403, {}, {}};
  if (!fs::is_regular_file(file, ec)) return {404, {}, {}};
  std::ifstream in(file, std::ios::binary);
  if (!in) return {404, {}, {}};
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return {200, std::move(bytes).str(), guess_type(file)};
}

}  // namespace

void Application::add_static(std::string prefix, std::string directory) {
  namespace fs = std::filesystem;
  if (prefix.empty() || prefix.front() != '/') throw ValueError("path should be started with / or be empty");
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  std::error_code ec;
  fs::path root = fs::canonical(directory, ec);
  if (ec) throw ValueError("'" + directory + "' does not exist");
  if (!fs::is_directory(root)) throw ValueError("'" + directory + "' is not a directory");
  Route route;
  route.method = "GET";
  route.path = prefix == "/" ? "" : prefix;
  route.is_static = true;
  route.handler = [root = root.string()](Request& request) -> Coro<Response> {
    StaticFile file = co_await to_thread(read_static, root, request.match_info.at("filename"));
    if (file.status != 200) throw HTTPException(file.status);
    co_return Response{.body = std::move(file.bytes), .content_type = std::move(file.content_type)};
  };
  routes_.push_back(std::move(route));
}

Coro<Response> Application::handle(Request& request) const {
  // Routes match the raw path, and match values are decoded after (aiohttp's
  // order: "/page/a%2Fb" matches "/page/{n}" with n = "a/b").
  std::string_view raw = request.raw_path;
  raw = raw.substr(0, raw.find_first_of("?#"));
  if (raw.empty() || raw.front() != '/') raw = request.path;
  const Route* found = nullptr;
  std::string allowed;
  for (const auto& route : routes_) {
    request.match_info.clear();
    if (!route.match(raw, request.match_info)) continue;
    bool method_ok = route.method == "*" || route.method == request.method ||
                     (route.method == "GET" && request.method == "HEAD");
    if (method_ok) {
      found = &route;
      break;
    }
    if (allowed.find(route.method) == std::string::npos) {
      if (!allowed.empty()) allowed += ",";
      allowed += route.method;
    }
  }
  if (!found) {
    request.match_info.clear();
    if (allowed.empty()) co_return detail::plain_response(404, "404: Not Found");
    Response r = detail::plain_response(405, "405: Method Not Allowed");
    r.headers.add("Allow", allowed);
    co_return r;
  }
  try {
    co_return co_await found->handler(request);
  } catch (const HTTPException& e) {
    co_return detail::plain_response(e.status(), e.text());
  }
}

// ---- serving ------------------------------------------------------------------------

AppRunner::AppRunner(const Application& app, ServerOptions options)
    : shared_(std::make_shared<detail::ServerShared>()) {
  shared_->app = &app;
  shared_->options = std::move(options);
}

AppRunner::~AppRunner() = default;

Coro<void> AppRunner::start(std::string host, int port, std::shared_ptr<ssl::SSLContext> ssl_context) {
  if (shared_->shutting_down) throw RuntimeError("AppRunner is cleaned up");
  asyncio::ServerOptions listen = shared_->options.listen;
  listen.ssl = ssl_context ? std::move(ssl_context) : shared_->options.ssl_context;
  auto shared = shared_;
  // Named, not a temporary in the co_await expression: g++ 12 destroys such a
  // temporary twice (the factory's shared_ptr was released one time too many).
  EventLoop::ProtocolFactory factory = [shared]() -> std::shared_ptr<Protocol> {
    return std::make_shared<detail::HttpProtocol>(shared);
  };
  auto server = co_await get_running_loop().create_server(std::move(factory), std::move(host), port, listen);
  servers_.push_back(std::move(server));
}

std::vector<SocketAddress> AppRunner::addresses() const {
  std::vector<SocketAddress> out;
  for (const auto& s : servers_)
    for (auto& a : s->sockets()) out.push_back(a);
  return out;
}

int AppRunner::port() const {
  auto a = addresses();
  if (a.empty()) throw RuntimeError("AppRunner is not listening");
  return a.front().port;
}

std::size_t AppRunner::connections() const {
  return shared_->connections.size();
}

Coro<void> AppRunner::cleanup() {
  shared_->shutting_down = true;
  for (auto& s : servers_) s->close();
  // Idle connections close now; busy ones after the answer in flight.
  std::vector<detail::HttpProtocol*> conns(shared_->connections.begin(),
                                           shared_->connections.end());
  for (auto* c : conns) c->shutdown();
  double deadline = get_running_loop().time() + shared_->options.shutdown_timeout;
  for (auto& s : servers_) {
    try {
      co_await wait_for(s->wait_closed(), deadline - get_running_loop().time());
    } catch (const TimeoutError&) {
      s->abort_clients();
    }
  }
  for (auto& s : servers_) co_await s->wait_closed();
  servers_.clear();
}

Coro<void> serve_until_signal(const Application& app, std::string host, int port,
                              ServerOptions options, bool print_banner) {
  const char* scheme = options.ssl_context ? "https" : "http";
  AppRunner runner(app, std::move(options));
  co_await runner.start(host, port);
  if (print_banner) {
    std::cout << "======== Running on " << scheme << "://" << host << ":" << runner.port() << " ========\n"
              << "(Press CTRL+C to quit)" << std::endl;
  }
  Event stop;
  auto& loop = get_running_loop();
  loop.add_signal_handler(SIGINT, [&stop] { stop.set(); });
  loop.add_signal_handler(SIGTERM, [&stop] { stop.set(); });
  std::exception_ptr exc;
  try {
    co_await stop.wait();
  } catch (...) {
    exc = std::current_exception();
  }
  loop.remove_signal_handler(SIGINT);
  loop.remove_signal_handler(SIGTERM);
  co_await runner.cleanup();
  if (exc) std::rethrow_exception(exc);
}

void run_app(const Application& app, std::string host, int port, ServerOptions options,
             bool print_banner) {
  asyncio::run(serve_until_signal(app, std::move(host), port, std::move(options), print_banner));
}

}  // namespace asyncio::http::web
