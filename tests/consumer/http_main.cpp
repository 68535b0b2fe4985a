// The optional parts of an installed asyncio, used as a user would through find_package(asyncio):
// asyncio::http (an aiohttp.web server and a ClientSession talking to it on 127.0.0.1) and
// asyncio::gmp (a GMP integer wider than 64 bits sent to a process pool and back).
// tests/consumer/run.cmake builds it and checks the line it prints.
#include <asyncio/asyncio.hpp>
#include <asyncio/http/client.hpp>
#include <asyncio/http/server.hpp>
#include <asyncio/process_pool.hpp>
#include <asyncio/serialize_gmp.hpp>
#include <fmt/core.h>

#include <string>

namespace web = asyncio::http::web;

mpz_class successor(mpz_class n) { return n + 1; }
ASYNCIO_REGISTER_PROCESS_FUNCTION(successor);

asyncio::Coro<web::Response> square(web::Request& request) {
  long n = std::stol(request.match_info.at("n"));
  co_return web::Response{.text = std::to_string(n * n)};
}

asyncio::Coro<std::string> main_(std::string big) {
  web::Application app;
  app.add_get("/square/{n}", square);
  web::AppRunner runner(app);
  co_await runner.start("127.0.0.1", 0);
  asyncio::http::ClientSession session;
  asyncio::http::ClientResponse response =
      co_await session.get("http://127.0.0.1:" + std::to_string(runner.port()) + "/square/12");
  std::string body = co_await response.text();
  co_await session.close();
  co_await runner.cleanup();

  asyncio::ProcessPoolExecutor pool(1);
  mpz_class next = co_await asyncio::get_running_loop().run_in_executor(pool, successor, mpz_class(big));
  co_return fmt::format("http {} {} gmp {}", response.status, body, next.get_str());
}

int main(int argc, char** argv) {
  asyncio::process_pool_worker_main(argc, argv);  // the process pool's workers serve here
  if (argc != 2) {
    fmt::print(stderr, "usage: consumer_http DECIMAL\n");
    return 2;
  }
  fmt::print("{}\n", asyncio::run(main_(argv[1])));
}
