// Twin of tls_echo.py: the TCP echo client and server with streams
// (tcp_echo_streams.cpp), over TLS. The server loads a self-signed certificate
// for localhost, made at start-up with the `openssl` command; the client
// trusts exactly that certificate and checks the host name, as
// ssl::create_default_context() does.
#include <asyncio/asyncio.hpp>
#include <fmt/core.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>

namespace fs = std::filesystem;
namespace ssl = asyncio::ssl;
using asyncio::StreamReader;
using asyncio::StreamWriter;

// Python's {message!r} for the text of this example.
std::string r(const std::string& s) { return "'" + s + "'"; }

// Python: with tempfile.TemporaryDirectory() as directory: ...
struct TemporaryDirectory {
  fs::path path;
  TemporaryDirectory() {
    char tmpl[] = "/tmp/tls_echo-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TemporaryDirectory() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::pair<std::string, std::string> make_certificate(const fs::path& directory) {
  std::string cert = (directory / "cert.pem").string(), key = (directory / "key.pem").string();
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
                    " -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
                    " -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl req failed");
  return {cert, key};
}

asyncio::Coro<> handle_echo(StreamReader reader, StreamWriter writer) {
  std::string data = co_await reader.read(100);
  std::string message = data;
  auto addr = writer.get_extra_info("peername").address();
  std::string version = writer.get_extra_info("ssl_object").ssl_object().version();

  fmt::print("Received {} from {} over {}\n", r(message), r(addr.host), version);

  fmt::print("Send: {}\n", r(message));
  writer.write(data);
  co_await writer.drain();

  fmt::print("Close the connection\n");
  writer.close();
  co_await writer.wait_closed();
}

asyncio::Coro<> tls_echo_client(std::string message, int port, std::string cafile) {
  asyncio::ConnectionOptions options;
  options.ssl = ssl::create_default_context(ssl::Purpose::SERVER_AUTH, cafile);
  auto [reader, writer] = co_await asyncio::open_connection("localhost", port, options);
  std::string subject = writer.get_extra_info("peercert").peercert().common_name();
  fmt::print("Server certificate: {}\n", r(subject));

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
  TemporaryDirectory directory;
  auto [cert, key] = make_certificate(directory.path);
  asyncio::ServerOptions options;
  options.ssl = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
  options.ssl->load_cert_chain(cert, key);

  auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0, options);
  int port = server->sockets()[0].port;
  fmt::print("Serving on 127.0.0.1 with TLS\n");

  // async with server: ...
  co_await server->async_with(tls_echo_client("Hello TLS!", port, cert));
}

int main() { asyncio::run(main_()); }
