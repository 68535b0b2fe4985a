// W4 TCP echo server (bench/README.md), ours: streams by default
// (`reader.read()` then `writer.write()` + `drain()`), or a Protocol whose
// data_received writes the data back (--protocol). Listens on 127.0.0.1:PORT
// (0: a free port), prints `port=<port>`, serves until killed.
//
// Usage: w4_echo [PORT] [--protocol]
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

asyncio::Coro<> handle_echo(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(65536);
    if (data.empty()) break;
    writer.write(std::move(data));
    co_await writer.drain();
  }
  writer.close();
}

struct EchoProtocol : asyncio::Protocol {
  asyncio::Transport* transport = nullptr;
  void connection_made(asyncio::Transport& t) override { transport = &t; }
  void data_received(std::string_view data) override { transport->write(data); }
};

asyncio::Coro<> main_(int port, bool protocol) {
  std::shared_ptr<asyncio::Server> server;
  if (protocol) {
    server = co_await asyncio::get_running_loop().create_server(
        [] { return std::make_shared<EchoProtocol>(); }, "127.0.0.1", port);
  } else {
    server = co_await asyncio::start_server(handle_echo, "127.0.0.1", port);
  }
  std::printf("port=%d\n", server->sockets()[0].port);
  std::fflush(stdout);
  co_await server->serve_forever();
}

int main(int argc, char** argv) {
  int port = 0;
  bool protocol = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--protocol") == 0) {
      protocol = true;
    } else {
      port = std::atoi(argv[i]);
    }
  }
  asyncio::run(main_(port, protocol));
}
