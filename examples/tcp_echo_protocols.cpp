// Twin of tcp_echo_protocols.py: the asyncio docs' TCP echo server and client
// with transports and protocols, in one program on port 0.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <memory>
#include <string>

std::string r(std::string_view s) { return "'" + std::string(s) + "'"; }

class EchoServerProtocol : public asyncio::Protocol {
 public:
  void connection_made(asyncio::Transport& transport) override {
    auto peername = transport.get_extra_info("peername").address();
    fmt::print("Connection from {}\n", peername.host);
    transport_ = &transport;
  }

  void data_received(std::string_view data) override {
    fmt::print("Data received: {}\n", r(data));

    fmt::print("Send: {}\n", r(data));
    transport_->write(data);

    fmt::print("Close the client socket\n");
    transport_->close();
  }

 private:
  asyncio::Transport* transport_ = nullptr;
};

class EchoClientProtocol : public asyncio::Protocol {
 public:
  EchoClientProtocol(std::string message, asyncio::Future<bool> on_con_lost)
      : message_(std::move(message)), on_con_lost_(std::move(on_con_lost)) {}

  void connection_made(asyncio::Transport& transport) override {
    transport.write(message_);
    fmt::print("Data sent: {}\n", r(message_));
  }

  void data_received(std::string_view data) override { fmt::print("Data received: {}\n", r(data)); }

  void connection_lost(std::exception_ptr) override {
    fmt::print("The server closed the connection\n");
    on_con_lost_.set_result(true);
  }

 private:
  std::string message_;
  asyncio::Future<bool> on_con_lost_;
};

asyncio::Coro<> main_() {
  auto& loop = asyncio::get_running_loop();

  auto server = co_await loop.create_server([] { return std::make_shared<EchoServerProtocol>(); }, "127.0.0.1", 0);
  int port = server->sockets()[0].port;

  auto on_con_lost = loop.create_future<bool>();
  std::string message = "Hello World!";

  auto [transport, protocol] = co_await loop.create_connection(
      [&] { return std::make_shared<EchoClientProtocol>(message, on_con_lost); }, "127.0.0.1", port);

  // Wait until the protocol signals that the connection is lost and close the transport.
  std::exception_ptr exc;
  try {
    co_await on_con_lost;
  } catch (...) {
    exc = std::current_exception();
  }
  transport->close();  // finally:
  server->close();
  co_await server->wait_closed();
  if (exc) std::rethrow_exception(exc);
}

int main() { asyncio::run(main_()); }
