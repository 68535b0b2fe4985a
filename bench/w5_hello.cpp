// W5 HTTP: the hello-world server for wrk (bench/compare --only w5), on our
// HTTP server (web::Application). GET / answers "Hello, World!" (text/plain),
// keep-alive. Listens on 127.0.0.1:PORT (0: a free port), over TLS with
// --tls CERT KEY, prints `port=<port>` and serves until SIGTERM or SIGINT.
//
//   build/bench/w5_hello [PORT] [--tls CERT KEY]
// Python twin: bench/anchors/w5_hello.py.
#include <asyncio/asyncio.hpp>
#include <asyncio/http/server.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace web = asyncio::http::web;
namespace ssl = asyncio::ssl;

asyncio::Coro<web::Response> hello(web::Request&) { co_return web::Response{.text = "Hello, World!"}; }

asyncio::Coro<void> serve(int port, std::shared_ptr<ssl::SSLContext> context) {
  web::Application app;
  app.add_get("/", hello);
  web::AppRunner runner(app);
  co_await runner.start("127.0.0.1", port, context);
  fmt::print("port={}\n", runner.port());
  std::fflush(stdout);
  asyncio::Event stop;
  auto& loop = asyncio::get_running_loop();
  loop.add_signal_handler(SIGTERM, [&stop] { stop.set(); });
  loop.add_signal_handler(SIGINT, [&stop] { stop.set(); });
  co_await stop.wait();
  co_await runner.cleanup();
}

int main(int argc, char** argv) {
  int port = 0;
  std::shared_ptr<ssl::SSLContext> context;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--tls" && i + 2 < argc) {
      context = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
      context->load_cert_chain(argv[i + 1], argv[i + 2]);
      i += 2;
    } else {
      port = std::stoi(std::string(arg));
    }
  }
  asyncio::run(serve(port, std::move(context)));
}
