// Twin of tcp_echo_streams.py: the asyncio docs' TCP echo client and server
// with streams, in one program (the server on port 0, the client connects to it).
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <string>

using asyncio::StreamReader;
using asyncio::StreamWriter;

// Python's {message!r} for the text of this example.
std::string r(const std::string& s) { return "'" + s + "'"; }

asyncio::Coro<> handle_echo(StreamReader reader, StreamWriter writer) {
  std::string data = co_await reader.read(100);
  std::string message = data;
  auto addr = writer.get_extra_info("peername").address();

  fmt::print("Received {} from {}\n", r(message), r(addr.host));

  fmt::print("Send: {}\n", r(message));
  writer.write(data);
  co_await writer.drain();

  fmt::print("Close the connection\n");
  writer.close();
  co_await writer.wait_closed();
}

asyncio::Coro<> tcp_echo_client(std::string message, int port) {
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);

  fmt::print("Send: {}\n", r(message));
  writer.write(message);
  co_await writer.drain();

  std::string data = co_await reader.read(100);
  fmt::print("Received: {}\n", r(data));

  fmt::print("Close the connection\n");
  writer.close();
  co_await writer.wait_closed();
}

asyncio::Coro<> main_() {
  auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0);
  int port = server->sockets()[0].port;
  fmt::print("Serving on 127.0.0.1\n");

  // async with server: ...
  co_await server->async_with(tcp_echo_client("Hello World!", port));
}

int main() { asyncio::run(main_()); }
