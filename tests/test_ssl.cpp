// ssl.hpp: TLS over real sockets on 127.0.0.1 (real clock, under a watchdog).
// The certificate is made at test time with the `openssl` command into a
// temporary directory (no key is committed). The expected messages are
// CPython 3.11's, printed by tests/python/ssl_twin.py.
#include "asyncio/ssl.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "asyncio/events.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/server.hpp"
#include "asyncio/streams.hpp"
#include "asyncio/tasks.hpp"
#include "net_support.hpp"
#include "tls_certs.hpp"

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::StreamReader;
using asyncio::StreamWriter;
namespace ssl = asyncio::ssl;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

using tls_certs::certs;

std::shared_ptr<ssl::SSLContext> server_context() {
  auto ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
  ctx->load_cert_chain(certs().cert, certs().key);
  return ctx;
}

/// A client context that trusts our certificate.
std::shared_ptr<ssl::SSLContext> client_context() {
  return ssl::create_default_context(ssl::Purpose::SERVER_AUTH, certs().cert);
}

Coro<void> echo(StreamReader reader, StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(64 * 1024);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

Coro<std::shared_ptr<asyncio::Server>> echo_server(std::shared_ptr<ssl::SSLContext> ctx) {
  asyncio::ServerOptions options;
  options.ssl = std::move(ctx);
  co_return co_await asyncio::start_server(echo, "127.0.0.1", 0, options);
}

asyncio::ConnectionOptions tls(std::shared_ptr<ssl::SSLContext> ctx, std::string server_hostname = {}) {
  asyncio::ConnectionOptions o;
  o.ssl = std::move(ctx);
  o.server_hostname = std::move(server_hostname);
  return o;
}

std::string str(const auto& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

std::uint64_t fnv1a(std::uint64_t h, std::string_view data) {
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return h;
}
constexpr std::uint64_t kFnvBasis = 14695981039346656037ull;

/// Records the exception handler's calls.
struct Reported {
  std::vector<std::string> messages;
  explicit Reported(asyncio::EventLoop& loop) {
    loop.set_exception_handler([this](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
      messages.push_back(c.message + ": " + asyncio::exception_message(c.exception));
    });
  }
};

// ---- handshakes ------------------------------------------------------------------

TEST(SSL, HandshakeSucceedsAndTheConnectionCarriesData) {
  auto main = []() -> Coro<void> {
    auto server = co_await echo_server(server_context());
    int port = server->sockets()[0].port;
    std::weak_ptr<asyncio::Transport> weak;
    {
      auto [reader, writer] = co_await asyncio::open_connection("localhost", port, tls(client_context()));
      weak = writer.transport();
      writer.write("hello over TLS");
      co_await writer.drain();
      EXPECT_EQ(co_await reader.readexactly(14), "hello over TLS");
      EXPECT_TRUE(static_cast<bool>(writer.get_extra_info("peername")));  // the TCP transport's, through TLS
      writer.close();
      co_await writer.wait_closed();
    }
    // Closed and let go: the TLS layer, its transport and the streams are freed (no cycle).
    EXPECT_TRUE(weak.expired());
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(SSL, GetExtraInfoGivesThePeerCertificateCipherAndSslObject) {
  // ssl_twin.py prints the same dict shape, cipher tuple and version.
  auto main = []() -> Coro<void> {
    auto sctx = server_context();
    sctx->set_alpn_protocols({"http/1.1"});
    std::vector<std::string> server_side;
    auto handler = [&](StreamReader r, StreamWriter w) -> Coro<void> {
      server_side.push_back(str(w.get_extra_info("peercert")));  // no client certificate: None
      server_side.push_back(w.get_extra_info("ssl_object").ssl_object().server_side() ? "server" : "client");
      co_await echo(r, w);
    };
    asyncio::ServerOptions options;
    options.ssl = sctx;
    auto server = co_await asyncio::start_server(handler, "127.0.0.1", 0, options);
    auto cctx = client_context();
    cctx->set_alpn_protocols({"h2", "http/1.1"});
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", server->sockets()[0].port, tls(cctx));
    auto cert = writer.get_extra_info("peercert");
    CO_ASSERT_TRUE(static_cast<bool>(cert));
    EXPECT_EQ(cert.peercert().common_name(), "localhost");
    EXPECT_EQ(cert.peercert().version, 3);
    using Pair = std::pair<std::string, std::string>;
    EXPECT_EQ(cert.peercert().subjectAltName, (std::vector<Pair>{{"DNS", "localhost"}, {"IP Address", "127.0.0.1"}}));
    std::string printed = str(cert);
    EXPECT_EQ(printed.rfind("{'subject': ((('commonName', 'localhost'),),), 'issuer': ((('commonName', 'localhost'),),),"
                            " 'version': 3, 'serialNumber': '",
                            0),
              0u)
        << printed;
    EXPECT_NE(printed.find(" GMT', 'subjectAltName': (('DNS', 'localhost'), ('IP Address', '127.0.0.1'))}"),
              std::string::npos)
        << printed;
    const auto& obj = writer.get_extra_info("ssl_object").ssl_object();
    EXPECT_EQ(obj.version(), "TLSv1.3");
    EXPECT_FALSE(obj.server_side());
    EXPECT_EQ(obj.server_hostname(), "127.0.0.1");
    EXPECT_EQ(obj.selected_alpn_protocol(), "http/1.1");
    EXPECT_FALSE(obj.getpeercert_der().empty());
    EXPECT_EQ(str(writer.get_extra_info("cipher")), "('TLS_AES_256_GCM_SHA384', 'TLSv1.3', 256)");
    EXPECT_EQ(writer.get_extra_info("sslcontext").sslcontext(), cctx);
    writer.write("x");
    EXPECT_EQ(co_await reader.readexactly(1), "x");
    EXPECT_EQ(server_side, (std::vector<std::string>{"None", "server"}));
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(SSL, AWrongHostNameFailsTheHandshakeWithPythonsMessage) {
  auto main = []() -> Coro<void> {
    auto server = co_await echo_server(server_context());
    int port = server->sockets()[0].port;
    bool caught = false;
    try {
      co_await asyncio::open_connection("127.0.0.1", port, tls(client_context(), "wrong.example"));
    } catch (const ssl::SSLCertVerificationError& e) {
      caught = true;
      EXPECT_STREQ(e.what(),
                   "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is "
                   "not valid for 'wrong.example'.");
      EXPECT_EQ(e.errnum(), 1);
      EXPECT_EQ(e.library(), "SSL");
      EXPECT_EQ(e.reason(), "CERTIFICATE_VERIFY_FAILED");
      EXPECT_EQ(e.verify_code(), 62);
      EXPECT_EQ(e.verify_message(), "Hostname mismatch, certificate is not valid for 'wrong.example'.");
      EXPECT_EQ(asyncio::exception_type_name(std::current_exception()), "SSLCertVerificationError");
    }
    EXPECT_TRUE(caught);
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(SSL, ASelfSignedCertificateIsRefusedByDefaultAndAcceptedWithVerificationOff) {
  auto main = []() -> Coro<void> {
    auto server = co_await echo_server(server_context());
    int port = server->sockets()[0].port;
    // The default context trusts the system's CAs only.
    bool caught = false;
    try {
      co_await asyncio::open_connection("localhost", port, tls(ssl::create_default_context()));
    } catch (const ssl::SSLError& e) {  // an SSLCertVerificationError is an SSLError
      caught = true;
      EXPECT_STREQ(e.what(), "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate");
      auto* v = dynamic_cast<const ssl::SSLCertVerificationError*>(&e);
      CO_ASSERT_TRUE(v != nullptr);
      EXPECT_EQ(v->verify_code(), 18);
    }
    EXPECT_TRUE(caught);
    auto off = ssl::create_default_context();
    EXPECT_THROW(off->set_verify_mode(ssl::CERT_NONE), asyncio::ValueError);  // check_hostname first
    off->set_check_hostname(false);
    off->set_verify_mode(ssl::CERT_NONE);
    auto [reader, writer] = co_await asyncio::open_connection("localhost", port, tls(off));
    writer.write("ok");
    EXPECT_EQ(co_await reader.readexactly(2), "ok");
    EXPECT_EQ(str(writer.get_extra_info("peercert")), "{}");  // Python: not verified, not decoded
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(SSL, TheServerGoesOnAfterAClientFailsItsHandshake) {
  auto main = []() -> Coro<void> {
    auto& loop = asyncio::get_running_loop();
    Reported reported(loop);
    int served = 0;
    asyncio::ServerOptions options;
    options.ssl = server_context();
    auto handler = [&](StreamReader r, StreamWriter w) -> Coro<void> {
      ++served;
      co_await echo(r, w);
    };
    auto server = co_await asyncio::start_server(handler, "127.0.0.1", 0, options);
    int port = server->sockets()[0].port;
    // 1: refuses the server's certificate; 2: speaks plain text to it.
    EXPECT_THROW(co_await asyncio::open_connection("localhost", port, tls(ssl::create_default_context())),
                 ssl::SSLCertVerificationError);
    {
      auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
      writer.write("GET / HTTP/1.0\r\n\r\n");
      try {
        co_await reader.read();  // until the server drops it (perhaps after an alert)
      } catch (const asyncio::ConnectionResetError&) {
      }
      writer.close();
      co_await writer.wait_closed();
    }
    auto [reader, writer] = co_await asyncio::open_connection("localhost", port, tls(client_context()));
    writer.write("still here");
    EXPECT_EQ(co_await reader.readexactly(10), "still here");
    writer.close();
    co_await writer.wait_closed();
    EXPECT_EQ(served, 1);
    // CPython: failed handshakes are OSErrors, logged in debug mode only.
    EXPECT_EQ(reported.messages, std::vector<std::string>{});
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

// ---- closing ------------------------------------------------------------------

TEST(SSL, APeerThatClosesWithoutCloseNotifyIsSeenAsEof) {
  auto main = []() -> Coro<void> {
    asyncio::ServerOptions options;
    options.ssl = server_context();
    auto handler = [](StreamReader r, StreamWriter w) -> Coro<void> {
      w.write("last words");
      co_await w.drain();
      co_await r.readexactly(3);  // the client has them
      w.transport()->abort();     // TCP closes, no close_notify
    };
    auto server = co_await asyncio::start_server(handler, "127.0.0.1", 0, options);
    auto [reader, writer] =
        co_await asyncio::open_connection("localhost", server->sockets()[0].port, tls(client_context()));
    EXPECT_EQ(co_await reader.readexactly(10), "last words");
    writer.write("ack");
    EXPECT_EQ(co_await reader.read(), "");
    EXPECT_TRUE(reader.at_eof());
    co_await writer.wait_closed();  // no error
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(SSL, CloseExchangesCloseNotifyAndBothSidesSeeEof) {
  auto main = []() -> Coro<void> {
    std::vector<std::string> log;
    asyncio::ServerOptions options;
    options.ssl = server_context();
    auto handler = [&](StreamReader r, StreamWriter w) -> Coro<void> {
      log.push_back("server read " + std::to_string((co_await r.read()).size()) + " bytes to EOF");
      co_await w.wait_closed();
      log.push_back("server closed");
    };
    auto server = co_await asyncio::start_server(handler, "127.0.0.1", 0, options);
    auto [reader, writer] =
        co_await asyncio::open_connection("localhost", server->sockets()[0].port, tls(client_context()));
    writer.write("12345");
    EXPECT_THROW(writer.write_eof(), asyncio::NotImplementedError);
    EXPECT_FALSE(writer.can_write_eof());
    writer.close();
    EXPECT_TRUE(writer.is_closing());
    co_await writer.wait_closed();
    log.push_back("client closed");
    server->close();
    co_await server->wait_closed();
    EXPECT_EQ(log, (std::vector<std::string>{"server read 5 bytes to EOF", "server closed", "client closed"}));
  };
  net::run(main());
}

// ---- volume and flow control --------------------------------------------------------

TEST(SSL, ALargeTransferArrivesWholeBothWays) {
  // 100 MB each way (16 MB under the sanitizers), echoed back; checksums compared.
  auto main = []() -> Coro<void> {
    const std::size_t total = kSanitized ? (16u << 20) : (100u << 20);
    auto server = co_await echo_server(server_context());
    auto [reader, writer] =
        co_await asyncio::open_connection("localhost", server->sockets()[0].port, tls(client_context()));
    std::uint64_t sent_sum = kFnvBasis;
    auto send = [](StreamWriter w, std::size_t total, std::uint64_t& sum) -> Coro<void> {
      std::string chunk(256 * 1024, '\0');
      std::uint32_t x = 12345;
      for (std::size_t sent = 0; sent < total; sent += chunk.size()) {
        for (char& c : chunk) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
        sum = fnv1a(sum, chunk);
        w.write(chunk);
        co_await w.drain();
      }
    };
    auto sender = asyncio::create_task(send(writer, total, sent_sum));
    std::uint64_t got_sum = kFnvBasis;
    std::size_t got = 0;
    while (got < total) {
      std::string data = co_await reader.read(1 << 20);
      CO_ASSERT_TRUE(!data.empty());
      got += data.size();
      got_sum = fnv1a(got_sum, data);
    }
    co_await sender;
    EXPECT_EQ(got, total);
    EXPECT_EQ(got_sum, sent_sum);
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
  };
  net::run(main(), 240s);
}

/// Records flow control on a TLS client.
struct FlowRecorder : asyncio::Protocol {
  std::vector<std::string> log;
  asyncio::Transport* transport = nullptr;
  std::string received;
  asyncio::Future<void> lost = asyncio::get_running_loop().create_future<void>();
  void connection_made(asyncio::Transport& t) override { transport = &t; }
  void data_received(std::string_view d) override { received += d; }
  void pause_writing() override { log.push_back("pause_writing"); }
  void resume_writing() override { log.push_back("resume_writing"); }
  void connection_lost(std::exception_ptr) override {
    if (!lost.done()) lost.set_result();
  }
};

TEST(SSL, WriteFlowControlWorksThroughTheTlsLayer) {
  // The server stops reading: the client's TLS transport fills past its
  // high-water mark (512 KiB: CPython's FLOW_CONTROL_HIGH_WATER_SSL_WRITE)
  // and pauses its protocol, then resumes once the server reads again.
  auto main = []() -> Coro<void> {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::shared_ptr<FlowRecorder>> made;
    asyncio::ServerOptions options;
    options.ssl = server_context();
    auto server = co_await loop.create_server(
        [&] {
          made.push_back(std::make_shared<FlowRecorder>());
          return made.back();
        },
        "127.0.0.1", 0, options);
    auto [transport, protocol] = co_await loop.create_connection(
        [] { return std::make_shared<FlowRecorder>(); }, "localhost", server->sockets()[0].port,
        tls(client_context()));
    auto client = std::static_pointer_cast<FlowRecorder>(protocol);
    while (made.empty() || made[0]->transport == nullptr) co_await asyncio::sleep(1ms);
    made[0]->transport->pause_reading();
    EXPECT_FALSE(made[0]->transport->is_reading());
    EXPECT_EQ(transport->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>(128 * 1024, 512 * 1024)));
    const std::size_t total = 32u << 20;
    std::string chunk(1 << 20, 'z');
    for (std::size_t sent = 0; sent < total; sent += chunk.size()) {
      transport->write(chunk);
      co_await asyncio::sleep(0s);  // let the TCP transport push what the kernel takes
    }
    // Paused now; it may have paused and resumed before, while the kernel's
    // buffers still took data (timing): the calls alternate, pause first.
    auto alternates = [](const std::vector<std::string>& log) {
      for (std::size_t i = 0; i < log.size(); ++i) {
        if (log[i] != (i % 2 == 0 ? "pause_writing" : "resume_writing")) return false;
      }
      return !log.empty();
    };
    EXPECT_TRUE(alternates(client->log) && client->log.back() == "pause_writing") << ::testing::PrintToString(client->log);
    EXPECT_GT(transport->get_write_buffer_size(), 512u * 1024);
    made[0]->transport->resume_reading();
    while (made[0]->received.size() < total) co_await asyncio::sleep(1ms);
    EXPECT_EQ(made[0]->received, std::string(total, 'z').substr(0, made[0]->received.size()));
    EXPECT_TRUE(alternates(client->log) && client->log.back() == "resume_writing")
        << ::testing::PrintToString(client->log);
    EXPECT_EQ(transport->get_write_buffer_size(), 0u);
    transport->close();
    co_await client->lost;
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

// ---- start_tls and timeouts -------------------------------------------------------------

TEST(SSL, StartTlsUpgradesAnOpenConnection) {
  auto main = []() -> Coro<void> {
    auto sctx = server_context();
    std::vector<std::string> log;
    auto handler = [&](StreamReader r, StreamWriter w) -> Coro<void> {
      log.push_back("server got " + co_await r.readline());
      w.write("go ahead\n");
      co_await w.start_tls(sctx);  // server side: this writer came from start_server
      log.push_back(std::string("server over TLS: ") + (w.get_extra_info("ssl_object") ? "yes" : "no"));
      co_await echo(r, w);
    };
    auto server = co_await asyncio::start_server(handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", server->sockets()[0].port);
    writer.write("STARTTLS\n");
    EXPECT_EQ(co_await reader.readline(), "go ahead\n");
    EXPECT_FALSE(static_cast<bool>(writer.get_extra_info("ssl_object")));
    co_await writer.start_tls(client_context(), "localhost");
    EXPECT_EQ(writer.get_extra_info("ssl_object").ssl_object().version(), "TLSv1.3");
    writer.write("secret\n");
    EXPECT_EQ(co_await reader.readline(), "secret\n");
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
    EXPECT_EQ(log, (std::vector<std::string>{"server got STARTTLS\n", "server over TLS: yes"}));
  };
  net::run(main());
}

TEST(SSL, AHandshakeThatNeverCompletesTimesOut) {
  // The server accepts TCP and never answers the ClientHello. Real clock (the
  // socket is watched, so virtual time would not jump); no duration asserted.
  auto main = []() -> Coro<void> {
    auto silent = [](StreamReader r, StreamWriter w) -> Coro<void> {
      co_await r.read();
      w.close();
    };
    auto server = co_await asyncio::start_server(silent, "127.0.0.1", 0);
    auto options = tls(client_context(), "localhost");
    options.ssl_handshake_timeout = 0.2s;
    bool caught = false;
    try {
      co_await asyncio::open_connection("127.0.0.1", server->sockets()[0].port, options);
    } catch (const asyncio::ConnectionAbortedError& e) {
      caught = true;
      EXPECT_STREQ(e.what(), "SSL handshake is taking longer than 0.2 seconds: aborting the connection");
    }
    EXPECT_TRUE(caught);
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(SSL, AServerDropsAClientThatNeverHandshakes) {
  auto main = []() -> Coro<void> {
    asyncio::ServerOptions options;
    options.ssl = server_context();
    options.ssl_handshake_timeout = 0.2s;
    int served = 0;
    auto handler = [&](StreamReader, StreamWriter) -> Coro<void> {
      ++served;
      co_return;
    };
    auto server = co_await asyncio::start_server(handler, "127.0.0.1", 0, options);
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", server->sockets()[0].port);
    EXPECT_EQ(co_await reader.read(), "");  // closed by the server's timeout
    writer.close();
    co_await writer.wait_closed();
    EXPECT_EQ(served, 0);
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(SSL, AShutdownThePeerNeverAnswersTimesOut) {
  // The server's application stops reading, so its TLS layer leaves the
  // client's close_notify undecrypted and never answers it: the client's
  // shutdown ends after ssl_shutdown_timeout with TimeoutError("SSL shutdown
  // timed out"), which wait_closed() raises (CPython's _check_shutdown_timeout).
  auto main = []() -> Coro<void> {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::shared_ptr<FlowRecorder>> made;
    asyncio::ServerOptions server_options;
    server_options.ssl = server_context();
    auto server = co_await loop.create_server(
        [&] {
          made.push_back(std::make_shared<FlowRecorder>());
          return made.back();
        },
        "127.0.0.1", 0, server_options);
    auto options = tls(client_context());
    options.ssl_shutdown_timeout = 0.2s;
    auto [reader, writer] = co_await asyncio::open_connection("localhost", server->sockets()[0].port, options);
    while (made.empty() || made[0]->transport == nullptr) co_await asyncio::sleep(1ms);
    made[0]->transport->pause_reading();
    writer.close();
    bool caught = false;
    try {
      co_await writer.wait_closed();
    } catch (const asyncio::TimeoutError& e) {
      caught = true;
      EXPECT_STREQ(e.what(), "SSL shutdown timed out");
    }
    EXPECT_TRUE(caught);
    made[0]->transport->resume_reading();  // the server sees the end now
    co_await made[0]->lost;
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

// ---- misuse -----------------------------------------------------------------------

TEST(SSL, MisuseGetsPythonsErrors) {
  auto main = []() -> Coro<void> {
    auto expect_value_error = [](std::exception_ptr e, const std::string& message) {
      try {
        std::rethrow_exception(e);
      } catch (const asyncio::ValueError& v) {
        EXPECT_EQ(v.what(), message);
      } catch (...) {
        ADD_FAILURE() << "not a ValueError: " << asyncio::exception_repr(e);
      }
    };
    auto error_of = [](auto coro) -> Coro<std::exception_ptr> {
      try {
        co_await std::move(coro);
      } catch (...) {
        co_return std::current_exception();
      }
      co_return nullptr;
    };
    asyncio::ConnectionOptions plain;
    plain.server_hostname = "localhost";
    // (each Coro is made before its co_await: g++ 12 and temporaries in co_await)
    auto c1 = asyncio::open_connection("127.0.0.1", 1, plain);
    expect_value_error(co_await error_of(std::move(c1)), "server_hostname is only meaningful with ssl");
    asyncio::ConnectionOptions timeout_only;
    timeout_only.ssl_handshake_timeout = 1s;
    auto c2 = asyncio::open_connection("127.0.0.1", 1, timeout_only);
    expect_value_error(co_await error_of(std::move(c2)), "ssl_handshake_timeout is only meaningful with ssl");
    asyncio::ServerOptions negative;
    negative.ssl = server_context();
    negative.ssl_shutdown_timeout = -1s;
    auto c3 = asyncio::start_server(echo, "127.0.0.1", 0, negative);
    expect_value_error(co_await error_of(std::move(c3)), "ssl_shutdown_timeout should be a positive number, got -1.0");
    asyncio::ServerOptions client_ctx;
    client_ctx.ssl = client_context();
    auto c4 = asyncio::start_server(echo, "127.0.0.1", 0, client_ctx);
    expect_value_error(co_await error_of(std::move(c4)),
                       "Cannot create a server socket with a PROTOCOL_TLS_CLIENT context");
    auto ctx = ssl::create_default_context();
    EXPECT_THROW(ctx->load_verify_locations(), asyncio::TypeError);
    EXPECT_THROW(ctx->load_cert_chain(certs().dir.string() + "/missing.pem"), asyncio::FileNotFoundError);
    try {
      ctx->load_cert_chain(certs().key, certs().key);  // a key is no certificate
      ADD_FAILURE() << "no error";
    } catch (const ssl::SSLError& e) {
      EXPECT_STREQ(e.what(), "[SSL] PEM lib");
      EXPECT_EQ(e.library(), "SSL");
      EXPECT_EQ(e.reason(), "");
    }
    try {
      ctx->set_ciphers("nonsense");
      ADD_FAILURE() << "no error";
    } catch (const ssl::SSLError& e) {
      EXPECT_STREQ(e.what(), "No cipher can be selected.");
    }
    EXPECT_THROW(ctx->set_alpn_protocols({""}), asyncio::ValueError);
    EXPECT_EQ(str(*ctx), "<ssl.SSLContext PROTOCOL_TLS_CLIENT verify_mode=CERT_REQUIRED check_hostname=True>");
  };
  net::run(main());
}

}  // namespace
