// The talk's io.py made local (twin of examples/python/io_demo.py): N downloads
// from a latency server on this machine (GET /page/N answers after a fixed
// delay, 100 ms by default), four ways: one after another (libcurl's easy
// interface, as requests.get), a thread pool, a process pool, and asyncio
// (gather over one ClientSession); then, on request, the scale run (N
// downloads, at most LIMIT at once, a Semaphore).
//
//   io_demo                       # its own latency server, 100 downloads, the four ways
//   io_demo serve PORT [LATENCY]  # only the latency server, until SIGINT/SIGTERM (PORT 0: any)
//   io_demo PORT N [WAY...]       # against a running server; WAY: sync threads processes asyncio
//   io_demo PORT N scale [LIMIT]  # N downloads with asyncio, at most LIMIT (2000) at once
// (build/examples/io_demo.) Anything else: the usage, status 2 (-h, --help: status 0).
#include <curl/curl.h>
#include <fmt/core.h>

#include <algorithm>
#include <asyncio/asyncio.hpp>
#include <asyncio/http/client.hpp>
#include <asyncio/http/server.hpp>
#include <asyncio/process_pool.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace http = asyncio::http;
namespace web = asyncio::http::web;

// ---- the latency server (the "external resource") ---------------------------------
double latency = 0.1;

asyncio::Coro<web::Response> page(web::Request& request) {
  co_await asyncio::sleep(latency);
  co_return web::Response{.text = "<html><body><h1>" + request.path + "</h1></body></html>",
                          .content_type = "text/html"};
}

web::Application latency_app() {
  web::Application app;
  app.add_get("/page/{n}", page);
  return app;
}

web::ServerOptions latency_options() {
  web::ServerOptions options;
  options.listen.backlog = 4096;
  return options;
}

/// A latency server running on its own thread, and how to stop it from another.
struct LatencyServer {
  int port = 0;
  asyncio::EventLoop* loop = nullptr;
  asyncio::Event* stop = nullptr;
};

asyncio::Coro<void> serve_on_thread(std::promise<LatencyServer>* ready) {
  web::Application app = latency_app();
  web::AppRunner runner(app, latency_options());
  co_await runner.start("127.0.0.1", 0);
  asyncio::Event stop;
  ready->set_value({runner.port(), &asyncio::get_running_loop(), &stop});
  co_await stop.wait();
  co_await runner.cleanup();
}

// ---- the four ways ---------------------------------------------------------------------
size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

// requests.get(url).status_code
int get(std::string url) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) throw std::runtime_error(curl_easy_strerror(rc));
  return static_cast<int>(status);
}
ASYNCIO_REGISTER_PROCESS_FUNCTION(get);  // process pools run functions by name

asyncio::Coro<int> aget(http::ClientSession& session, std::string url) {
  auto response = co_await session.get(std::move(url));
  co_await response.read();
  co_return response.status;
}

asyncio::Coro<std::vector<int>> all_async(std::vector<std::string> urls) {
  http::ClientSession session;  // async with aiohttp.ClientSession() as session
  std::vector<asyncio::Coro<int>> downloads;
  downloads.reserve(urls.size());
  for (auto& u : urls) downloads.push_back(aget(session, std::move(u)));
  auto statuses = co_await asyncio::gather(std::move(downloads));
  co_await session.close();
  co_return statuses;
}

asyncio::Coro<std::vector<int>> scale(std::vector<std::string> urls, int limit) {
  asyncio::Semaphore sem(limit);
  http::ClientSession session(
      {.limit = static_cast<std::size_t>(limit)});  // TCPConnector(limit=limit)
  auto one = [&](std::string url) -> asyncio::Coro<int> {
    auto guard = co_await sem;  // async with sem
    co_return co_await aget(session, std::move(url));
  };
  std::vector<asyncio::Coro<int>> downloads;
  downloads.reserve(urls.size());
  for (auto& u : urls) downloads.push_back(one(std::move(u)));
  auto statuses = co_await asyncio::gather(std::move(downloads));
  co_await session.close();
  co_return statuses;
}

template <class F>
void timed(const std::string& label, F fn, std::size_t n) {
  auto t = std::chrono::steady_clock::now();
  std::vector<int> res = fn();
  std::chrono::duration<double> d = std::chrono::steady_clock::now() - t;
  if (res != std::vector<int>(n, 200)) throw std::runtime_error(label + ": a download failed");
  fmt::print("{} Duration: {:.2f} seconds\n", label, d.count());
  std::fflush(stdout);
}

std::vector<std::string> page_urls(int port, int n) {
  std::vector<std::string> urls;
  for (int i = 0; i < n; ++i) urls.push_back(fmt::format("http://127.0.0.1:{}/page/{}", port, i));
  return urls;
}

bool has(const std::vector<std::string>& ways, const std::string& way) {
  return std::find(ways.begin(), ways.end(), way) != ways.end();
}

void run_ways(int port, int n, const std::vector<std::string>& ways) {
  auto urls = page_urls(port, n);
  auto count = static_cast<std::size_t>(n);
  if (has(ways, "sync")) {
    timed(
        "Sync",
        [&] {
          std::vector<int> r;
          for (auto& u : urls) r.push_back(get(u));
          return r;
        },
        count);
  }
  if (has(ways, "threads")) {
    asyncio::ThreadPoolExecutor pool;  // Python's default: min(32, cores + 4) workers
    timed(
        "Thread pool", [&] { return std::vector<int>(pool.map(get, urls)); }, count);
  }
  if (has(ways, "processes")) {
    asyncio::ProcessPoolExecutor pool;  // one worker per core
    timed(
        "Process pool", [&] { return std::vector<int>(pool.map(get, urls)); }, count);
  }
  if (has(ways, "asyncio"))
    timed(
        "asyncio", [&] { return asyncio::run(all_async(urls)); }, count);
}

// ---- the command line ---------------------------------------------------------------------
const char* const usage =
    "usage: io_demo                      its own latency server, 100 downloads, the four ways\n"
    "       io_demo serve PORT [LATENCY] only the latency server, until SIGINT (PORT 0: any)\n"
    "       io_demo PORT N [WAY...]      WAY: sync threads processes asyncio (none: all four)\n"
    "       io_demo PORT N scale [LIMIT] N downloads with asyncio, at most LIMIT (2000) at once\n";

[[noreturn]] void usage_error(const std::string& message) {
  fmt::print(stderr, "{}io_demo: error: {}\n", usage, message);
  std::exit(2);
}

/// `arg` as an integer from `min` to `max`, else the usage and status 2.
int integer(const std::string& arg, const char* what, int min, int max) {
  int value = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), value);
  if (ec != std::errc{} || end != arg.data() + arg.size() || value < min || value > max)
    usage_error(fmt::format("{} must be an integer from {} to {}, not '{}'", what, min, max, arg));
  return value;
}

/// `arg` as seconds (0 or more), else the usage and status 2.
double seconds(const std::string& arg, const char* what) {
  double value = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), value);
  if (ec != std::errc{} || end != arg.data() + arg.size() || !(value >= 0 && value <= 3600))
    usage_error(fmt::format("{} must be a number of seconds from 0 to 3600, not '{}'", what, arg));
  return value;
}

int main(int argc, char** argv) {
  asyncio::process_pool_worker_main(argc, argv);  // if __name__ == "__main__": (workers serve here)
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    fmt::print("{}", usage);
    return 0;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (!args.empty() && args[0] == "serve") {
    if (args.size() > 3) usage_error("serve takes PORT and LATENCY at most");
    int port = args.size() > 1 ? integer(args[1], "PORT", 0, 65535) : 8765;
    if (args.size() > 2) latency = seconds(args[2], "LATENCY");
    web::Application app = latency_app();
    asyncio::run(
        web::serve_until_signal(app, "127.0.0.1", port, latency_options()));  // prints the banner
  } else if (!args.empty()) {
    int port = integer(args[0], "PORT", 1, 65535);
    if (args.size() < 2) usage_error("PORT and N are needed");
    int n = integer(args[1], "N", 0, 10'000'000);
    std::vector<std::string> ways(args.begin() + 2, args.end());
    if (ways.empty()) ways = {"sync", "threads", "processes", "asyncio"};
    if (ways[0] == "scale") {
      if (ways.size() > 2) usage_error("scale takes LIMIT at most");
      int limit = ways.size() > 1 ? integer(ways[1], "LIMIT", 1, 1'000'000) : 2000;
      std::vector<std::string> urls = page_urls(port, n);  // before the clock starts, as in the twin
      auto t = std::chrono::steady_clock::now();
      auto res = asyncio::run(scale(std::move(urls), limit));
      std::chrono::duration<double> d = std::chrono::steady_clock::now() - t;
      if (res != std::vector<int>(static_cast<std::size_t>(n), 200))
        throw std::runtime_error("a download failed");
      fmt::print("asyncio {} requests, {} at once: {:.2f} seconds\n", n, limit, d.count());
    } else {
      for (const std::string& way : ways)
        if (way != "sync" && way != "threads" && way != "processes" && way != "asyncio")
          usage_error(fmt::format("unknown WAY '{}'", way));
      run_ways(port, n, ways);
    }
  } else {
    // Its own latency server, on a thread with its own loop.
    std::promise<LatencyServer> ready;
    std::thread thread([&] { asyncio::run(serve_on_thread(&ready)); });
    LatencyServer server = ready.get_future().get();
    run_ways(server.port, 100, {"sync", "threads", "processes", "asyncio"});
    server.loop->call_soon_threadsafe([stop = server.stop] { stop->set(); });
    thread.join();
  }
  curl_global_cleanup();
}
