// Twin of web_service.py: a small web service on our HTTP server (aiohttp's
// web in C++): a JSON API holding items in memory (create, list, fetch by id,
// 404 for a missing one), a route that awaits something slow (an upstream
// program run as a subprocess) while other requests go on, static files from a
// directory, a log line per request, HTTP and HTTPS, and a graceful shutdown on
// SIGTERM. To print the same thing every run, the program serves on free
// ports, drives itself with the HTTP client, and at the end sends itself
// SIGTERM while a slow request is in flight.
#include <asyncio/asyncio.hpp>
#include <asyncio/http/client.hpp>
#include <asyncio/http/server.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace fs = std::filesystem;
namespace http = asyncio::http;
namespace ssl = asyncio::ssl;
namespace web = asyncio::http::web;
using asyncio::Coro;
using nlohmann::json;

// ---- the service ------------------------------------------------------------------

// [service]
struct Item {
  int id;
  std::string name;
};

// Python's json.dumps of the item dict: {"id": 1, "name": "apple"}.
std::string dumps(const Item& item) {
  return fmt::format(R"({{"id": {}, "name": {}}})", item.id, json(item.name).dump());
}

std::string error_json(const std::string& message) {
  return fmt::format(R"({{"error": {}}})", json(message).dump());
}

// app['items']: what the handlers share (the Application holds no state of its own).
std::map<int, Item> items;

Coro<web::Response> list_items(web::Request&) {
  std::string out = "[";
  for (const auto& [id, item] : items) out += (out.size() > 1 ? ", " : "") + dumps(item);
  co_return web::json_response(out + "]");
}

Coro<web::Response> create_item(web::Request& request) {
  json data = json::parse(request.text(), nullptr, /*allow_exceptions=*/false);
  if (data.is_discarded()) co_return web::json_response(error_json("invalid JSON"), 400);
  if (!data.is_object() || !data.contains("name") || !data["name"].is_string())
    co_return web::json_response(error_json("name is required"), 400);
  Item item{static_cast<int>(items.size()) + 1, data["name"].get<std::string>()};
  items[item.id] = item;
  co_return web::json_response(dumps(item), 201);
}

Coro<web::Response> get_item(web::Request& request) {
  std::string item_id = request.match_info.at("id");
  bool digits = item_id.find_first_not_of("0123456789") == std::string::npos;
  auto found = digits && item_id.size() < 9 ? items.find(std::stoi(item_id)) : items.end();
  if (found == items.end()) co_return web::json_response(error_json("no item " + item_id), 404);
  co_return web::json_response(dumps(found->second));
}

Coro<web::Response> slow(web::Request&) {
  // An upstream that takes a second: other requests are served meanwhile.
  asyncio::Process upstream = co_await asyncio::create_subprocess_exec(
      "sh", "-c", "sleep 1; echo upstream answered", asyncio::SubprocessOptions{.stdout = asyncio::subprocess::PIPE});
  auto [out, _] = co_await upstream.communicate();
  out.pop_back();  // strip()
  co_return web::json_response(fmt::format(R"({{"upstream": {}}})", json(out).dump()));
}

Coro<void> log_request(web::Request& request, web::Response& response) {
  fmt::print("[server] {} {} {}\n", request.method, request.path, response.status);
  co_return;
}

void add_routes(web::Application& app, const std::string& static_dir) {
  app.add_get("/items", list_items);
  app.add_post("/items", create_item);
  app.add_get("/items/{id}", get_item);
  app.add_get("/slow", slow);
  app.add_static("/static", static_dir);
  app.on_response_prepare.push_back(log_request);
}
// [end]

// ---- the demonstration --------------------------------------------------------------

// Python: with tempfile.TemporaryDirectory() as directory: ...
struct TemporaryDirectory {
  fs::path path;
  TemporaryDirectory() {
    char tmpl[] = "/tmp/web_service-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TemporaryDirectory() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

struct Files {
  std::string static_dir, cert, key;
};

Files make_files(const fs::path& directory) {
  fs::path static_dir = directory / "static";
  fs::create_directory(static_dir);
  std::ofstream(static_dir / "hello.txt") << "Hello from a static file\n";
  std::string cert = (directory / "cert.pem").string(), key = (directory / "key.pem").string();
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
                    " -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
                    " -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl req failed");
  return {static_dir.string(), cert, key};
}

std::string strip(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Coro<> show(http::ClientSession& session, std::string method, std::string base, std::string path,
            std::optional<std::string> data = std::nullopt) {
  http::RequestOptions options;
  options.data = std::move(data);
  http::ClientResponse response = co_await session.request(method, base + path, options);
  std::string text = co_await response.text();
  fmt::print("{} {} -> {} {} {}\n", method, path, response.status, response.content_type(), strip(text));
}

// [drive]
Coro<> drive(std::string http_url, std::string https_url, std::string cafile) {
  {
    http::ClientSession session;
    co_await show(session, "POST", http_url, "/items", R"({"name": "apple"})");
    co_await show(session, "POST", http_url, "/items", R"({"name": "pear"})");
    co_await show(session, "POST", http_url, "/items", "not json");
    co_await show(session, "GET", http_url, "/items");
    co_await show(session, "GET", http_url, "/items/2");
    co_await show(session, "GET", http_url, "/items/7");
    co_await show(session, "GET", http_url, "/static/hello.txt");
    co_await show(session, "GET", http_url, "/static/missing.txt");

    // While /slow waits for its upstream, other requests are answered.
    auto meanwhile = [&]() -> Coro<> {
      co_await show(session, "GET", http_url, "/items/1");
      co_await show(session, "GET", http_url, "/items");
    };
    co_await asyncio::gather(show(session, "GET", http_url, "/slow"), meanwhile());
    co_await session.close();
  }
  http::SessionOptions secure;
  secure.ssl = ssl::create_default_context(ssl::Purpose::SERVER_AUTH, cafile);
  http::ClientSession session(secure);
  co_await show(session, "GET", https_url, "/items/1");
  // SIGTERM while a request is in flight: it is answered, then the server stops.
  auto in_flight = asyncio::create_task(show(session, "GET", https_url, "/slow"));
  co_await asyncio::sleep(0.3);
  fmt::print("sending SIGTERM\n");
  ::kill(::getpid(), SIGTERM);
  co_await in_flight;
  co_await session.close();
}
// [end]

// [main]
Coro<> main_() {
  TemporaryDirectory directory;
  Files files = make_files(directory.path);
  web::Application app;
  add_routes(app, files.static_dir);
  web::AppRunner runner(app);
  co_await runner.start("127.0.0.1", 0);
  auto context = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
  context->load_cert_chain(files.cert, files.key);
  co_await runner.start("127.0.0.1", 0, context);
  auto addresses = runner.addresses();
  int http_port = addresses[0].port, https_port = addresses[1].port;
  fmt::print("serving HTTP and HTTPS on 127.0.0.1\n");

  asyncio::Event stop;
  auto& loop = asyncio::get_running_loop();
  loop.add_signal_handler(SIGTERM, [&stop] { stop.set(); });
  auto client = asyncio::create_task(drive(fmt::format("http://127.0.0.1:{}", http_port),
                                           fmt::format("https://127.0.0.1:{}", https_port), files.cert));
  co_await stop.wait();
  fmt::print("SIGTERM received: shutting down\n");
  co_await runner.cleanup();
  co_await client;
  loop.remove_signal_handler(SIGTERM);
  fmt::print("bye\n");
}

int main() { asyncio::run(main_()); }
// [end]
