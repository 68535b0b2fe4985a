// Twin of web_crawler.py (the talk's aiohttp + BeautifulSoup crawler): crawls
// each start URL given on the command line and the pages it links to with
// href="/..." (depth <= 1, at most 100 pages), each page with its own session
// and a 5 s total timeout, without following redirects. Lengths are in
// characters, as Python's len(str).
//
//   build/examples/web_crawler http://127.0.0.1:8000/ [more start URLs...]
#include <asyncio/asyncio.hpp>
#include <asyncio/http/client.hpp>
#include <asyncio/http/html.hpp>
#include <asyncio/http/url.hpp>
#include <fmt/core.h>

#include <set>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace http = asyncio::http;

std::set<std::string> visited_urls;

// BeautifulSoup(html_text).find_all('a', attrs={'href': re.compile(r"^/")})
std::vector<std::string> get_links(const std::string& html_text) {
  std::vector<std::string> links;
  for (auto& href : http::find_links(html_text))
    if (href.starts_with("/")) links.push_back(href);
  return links;
}

asyncio::Coro<> crawl(std::string url, int depth) {
  if (depth > 1) co_return;
  if (visited_urls.size() == 100) co_return;
  if (visited_urls.contains(url)) {
    fmt::print("Skipping visited url: {}\n", url);
    co_return;
  }
  if (url.ends_with(".mp4")) co_return;
  visited_urls.insert(url);
  http::ClientTimeout timeout{.total = 5s};
  http::ClientSession session({.timeout = timeout});  // async with aiohttp.ClientSession(timeout=timeout)
  try {
    auto response = co_await session.get(url, {.allow_redirects = false});
    if (response.status == 200) {
      std::string response_text = co_await response.text();
      fmt::print("{} Length: {}\n", url, http::len(response_text));
      if (response.headers.at("Content-Type").find("text/html") != std::string::npos) {
        std::vector<asyncio::Task<>> tasks;
        for (auto& l : get_links(response_text)) {
          auto p = http::urlparse(url);
          tasks.push_back(asyncio::create_task(crawl(fmt::format("{}://{}{}", p.scheme, p.netloc, l), depth + 1)));
        }
        co_await asyncio::gather(tasks);
      }
    } else {
      fmt::print("Failed to get {}. Status: {}\n", url, response.status);
    }
  } catch (const asyncio::TimeoutError&) {
    fmt::print("Timeout: {}\n", url);
  }
  co_await session.close();
}

asyncio::Coro<> run(std::vector<std::string> urls) {
  std::string shown;  // print(urls): Python's repr of a list of strings
  for (auto& u : urls) shown += (shown.empty() ? "" : ", ") + asyncio::detail::py_str_repr(u);
  fmt::print("[{}]\n", shown);
  std::vector<asyncio::Task<>> tasks;
  for (auto& u : urls) {
    fmt::print("Starting crawl for {}\n", u);
    tasks.push_back(asyncio::create_task(crawl(u, 0)));
  }
  co_await asyncio::gather(tasks);
}

int main(int argc, char** argv) {
  try {
    asyncio::run(run(std::vector<std::string>(argv + 1, argv + argc)));
  } catch (const std::exception& e) {  // Python prints the traceback and exits with 1
    fmt::print(stderr, "{}\n", e.what());
    return 1;
  }
}
