// Twin of udp_echo.py: the asyncio docs' UDP echo server and client, in one
// program (the server's endpoint on port 0, the client sends to it).
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>

#include <memory>
#include <string>

std::string r(std::string_view s) { return "'" + std::string(s) + "'"; }

class EchoServerProtocol : public asyncio::DatagramProtocol {
 public:
  void connection_made(asyncio::DatagramTransport& transport) override { transport_ = &transport; }

  void datagram_received(std::string_view data, const asyncio::SocketAddress& addr) override {
    fmt::print("Received {} from {}\n", r(data), addr.host);
    fmt::print("Send {} to {}\n", r(data), addr.host);
    transport_->sendto(data, addr);
  }

 private:
  asyncio::DatagramTransport* transport_ = nullptr;
};

class EchoClientProtocol : public asyncio::DatagramProtocol {
 public:
  EchoClientProtocol(std::string message, asyncio::Future<bool> on_con_lost)
      : message_(std::move(message)), on_con_lost_(std::move(on_con_lost)) {}

  void connection_made(asyncio::DatagramTransport& transport) override {
    transport_ = &transport;
    fmt::print("Send: {}\n", message_);
    transport_->sendto(message_);
  }

  void datagram_received(std::string_view data, const asyncio::SocketAddress&) override {
    fmt::print("Received: {}\n", data);

    fmt::print("Close the socket\n");
    transport_->close();
  }

  void error_received(std::exception_ptr exc) override {
    fmt::print("Error received: {}\n", asyncio::exception_message(exc));
  }

  void connection_lost(std::exception_ptr) override {
    fmt::print("Connection closed\n");
    on_con_lost_.set_result(true);
  }

 private:
  std::string message_;
  asyncio::Future<bool> on_con_lost_;
  asyncio::DatagramTransport* transport_ = nullptr;
};

asyncio::Coro<> main_() {
  auto& loop = asyncio::get_running_loop();

  asyncio::SocketAddress local_addr{.host = "127.0.0.1", .port = 0};
  auto [server, server_protocol] = co_await loop.create_datagram_endpoint(
      [] { return std::make_shared<EchoServerProtocol>(); }, local_addr);
  int port = server->get_extra_info("sockname").address().port;

  auto on_con_lost = loop.create_future<bool>();
  std::string message = "Hello World!";
  asyncio::SocketAddress remote_addr{.host = "127.0.0.1", .port = port};
  auto [transport, protocol] = co_await loop.create_datagram_endpoint(
      [&] { return std::make_shared<EchoClientProtocol>(message, on_con_lost); }, std::nullopt, remote_addr);

  std::exception_ptr exc;
  try {
    co_await on_con_lost;
  } catch (...) {
    exc = std::current_exception();
  }
  transport->close();  // finally:
  server->close();
  if (exc) std::rethrow_exception(exc);
}

int main() { asyncio::run(main_()); }
