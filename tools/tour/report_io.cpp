// The io demonstration's timelines for the report (report.hpp): the same downloads
// from the latency server (latency_server.hpp) with asyncio -- one task per download,
// all waiting at once on the loop's thread -- and in a thread pool through
// run_in_executor -- a few threads side by side, each blocked in one download at a time.
// Each run is traced (trace.hpp) and drawn (tools/timeline).
#include <asyncio/executors.hpp>
#include <asyncio/http/client.hpp>
#include <asyncio/tasks.hpp>
#include <asyncio/tasks_combinators.hpp>
#include <curl/curl.h>
#include <fmt/core.h>

#include <stdexcept>

#include "latency_server.hpp"
#include "report.hpp"
#include "traced_svg.hpp"

namespace tour {
namespace {

std::size_t discard(char*, std::size_t size, std::size_t n, void*) {
  return size * n;
}

// requests.get(url).status_code: a blocking download (libcurl's easy interface).
int blocking_get(const std::string& url) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw std::runtime_error("curl_easy_init failed");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) throw std::runtime_error(url + ": " + curl_easy_strerror(rc));
  return static_cast<int>(status);
}

std::vector<std::string> page_urls(int port, int n) {
  std::vector<std::string> urls;
  for (int i = 0; i < n; ++i) urls.push_back(fmt::format("http://127.0.0.1:{}/page/{}", port, i));
  return urls;
}

asyncio::Coro<int> download(asyncio::http::ClientSession& session, std::string url) {
  auto response = co_await session.get(std::move(url));
  co_await response.read();
  co_return response.status;
}

// async with aiohttp.ClientSession() as s: await asyncio.gather(*(download(s, u) for u in urls))
asyncio::Coro<> all_with_asyncio(std::vector<std::string> urls) {
  asyncio::http::ClientSession session;
  std::vector<asyncio::Coro<int>> downloads;
  for (auto& u : urls) downloads.push_back(download(session, std::move(u)));
  auto statuses = co_await asyncio::gather(std::move(downloads));
  co_await session.close();
  for (int s : statuses)
    if (s != 200) throw std::runtime_error(fmt::format("io timeline: a download answered {}", s));
}

// await asyncio.gather(*(loop.run_in_executor(pool, requests.get, u) for u in urls))
asyncio::Coro<> all_in_threads(asyncio::ThreadPoolExecutor& pool, std::vector<std::string> urls) {
  auto& loop = asyncio::get_running_loop();
  std::vector<asyncio::Future<int>> futures;
  for (auto& u : urls) futures.push_back(loop.run_in_executor(pool, blocking_get, u));
  auto statuses = co_await asyncio::gather(std::move(futures));
  for (int s : statuses)
    if (s != 200) throw std::runtime_error(fmt::format("io timeline: a download answered {}", s));
}

}  // namespace

IoTimelines trace_io_timelines(int n, double latency, std::size_t threads) {
  if (n < 1) throw std::invalid_argument(fmt::format("trace_io_timelines: n must be at least 1, got {}", n));
  LatencyServer server(latency);
  if (server.port() == 0) throw std::runtime_error("the latency server (build/examples/io_demo serve) did not start");
  curl_global_init(CURL_GLOBAL_DEFAULT);  // before the pool's threads call curl_easy_init
  std::vector<timeline::Trace> traces;
  traces.push_back(traced_run(all_with_asyncio(page_urls(server.port(), n))));
  {
    asyncio::ThreadPoolExecutor pool(threads);
    traces.push_back(traced_run(all_in_threads(pool, page_urls(server.port(), n))));
  }
  curl_global_cleanup();
  // One time axis for both: the thread pool's rounds are visibly longer.
  auto svgs = render_on_shared_axis(
      traces, {fmt::format("asyncio: {} downloads wait at once on the loop's thread", n),
               fmt::format("run_in_executor, thread pool: {} downloads, one per thread at a time", n)});
  return IoTimelines{svgs[0], svgs[1]};
}

}  // namespace tour
