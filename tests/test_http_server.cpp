// The HTTP server (http/server.hpp) on real sockets on 127.0.0.1, the real
// clock, under a watchdog (net::run: a hang fails the test; no frame and no
// libuv handle may outlive the loop). Raw requests go through our streams so
// that every byte the server sends is checked; the HTTP client is checked
// against it too.
//
// aiohttp's answers behind the expected texts ("404: Not Found", the 500 text,
// the percent-decoded match values, chunked bodies): tests/python/http_server_aiohttp.py,
// run with /usr/bin/python3 (aiohttp 3.8.4), prints
//   ('HTTP/1.1 200 OK', 'page 7 q=a b')
//   ('HTTP/1.1 200 OK', 'page a/b q=')
//   ('HTTP/1.1 404 Not Found', '404: Not Found')
//   ('HTTP/1.1 405 Method Not Allowed', '405: Method Not Allowed')
//   ('HTTP/1.1 500 Internal Server Error', '500 Internal Server Error\n\nServer got itself in
//   trouble')
//   ('HTTP/1.1 200 OK', 'abcde')
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "asyncio/http/client.hpp"
#include "asyncio/http/server.hpp"
#include "asyncio/locks.hpp"
#include "asyncio/ssl.hpp"
#include "asyncio/streams.hpp"
#include "asyncio/tasks.hpp"
#include "net_support.hpp"
#include "support.hpp"
#include "tls_certs.hpp"

using namespace std::chrono_literals;
namespace web = asyncio::http::web;
namespace http = asyncio::http;
namespace ssl = asyncio::ssl;
using asyncio::Coro;

namespace {

// ---- handlers -----------------------------------------------------------------------

Coro<web::Response> page(web::Request& request) {
  auto q = request.query().get("q");
  co_return web::Response{.text = "page " + request.match_info.at("n") + " q=" + q.value_or("")};
}

Coro<web::Response> file(web::Request& request) {
  co_return web::Response{.text = "file " + request.match_info.at("name"),
                          .content_type = "text/html"};
}

Coro<web::Response> echo(web::Request& request) {
  web::Response r{.body = std::move(request.body)};
  r.headers.add("X-Method", request.method);
  co_return r;
}

Coro<web::Response> sleepy(web::Request& request) {
  int ms = std::stoi(request.match_info.at("ms"));
  co_await asyncio::sleep(std::chrono::milliseconds(ms));
  co_return web::Response{.text = "slept " + std::to_string(ms)};
}

Coro<web::Response> boom(web::Request&) {
  throw std::runtime_error("boom");
  co_return web::Response{};
}

Coro<web::Response> forbidden(web::Request&) {
  throw web::HTTPException(403);
  co_return web::Response{};
}

/// The routes most tests use.
void add_routes(web::Application& app) {
  app.add_get("/page/{n}", page);
  app.add_get("/file/{name}.html", file);
  app.add_post("/echo", echo);
  app.add_get("/sleep/{ms}", sleepy);
  app.add_get("/boom", boom);
  app.add_get("/forbidden", forbidden);
}

// ---- a raw client -----------------------------------------------------------------------

struct Reply {
  std::string status_line;
  int status = 0;
  http::CIMultiDict headers;
  std::string body;
};

/// Reads one answer (Content-Length framed; none for HEAD).
Coro<Reply> read_reply(asyncio::StreamReader reader, bool head_request = false) {
  std::string head = co_await reader.readuntil("\r\n\r\n");
  Reply r;
  std::size_t eol = head.find("\r\n");
  r.status_line = head.substr(0, eol);
  r.status = std::stoi(r.status_line.substr(9, 3));
  std::size_t pos = eol + 2;
  while (pos + 2 < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    std::string line = head.substr(pos, end - pos);
    auto colon = line.find(':');
    r.headers.add(line.substr(0, colon), line.substr(colon + 2));
    pos = end + 2;
  }
  if (!head_request) {
    auto length = r.headers.get("Content-Length");
    if (length) r.body = co_await reader.readexactly(std::stoi(*length));
  }
  co_return r;
}

struct Conn {
  asyncio::StreamReader reader;
  asyncio::StreamWriter writer;
};

Coro<Conn> connect(int port) {
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
  co_return Conn{reader, writer};
}

/// Sends raw bytes and reads one answer.
Coro<Reply> exchange(Conn& c, std::string request, bool head_request = false) {
  c.writer.write(request);
  co_await c.writer.drain();
  co_return co_await read_reply(c.reader, head_request);
}

std::string get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

/// True when the server closed the connection (read() gives EOF).
Coro<bool> closed_by_server(Conn& c) {
  std::string rest = co_await c.reader.read();
  co_return rest.empty() && c.reader.at_eof();
}

Coro<void> close(Conn& c) {
  c.writer.close();
  co_await c.writer.wait_closed();
}

/// Serves the standard routes with `options` on a free port, runs
/// `body(runner)` (a coroutine) under net::run, then cleans up.
template <class Body>
void with_server(web::ServerOptions options, Body body, std::chrono::seconds limit = 60s) {
  web::Application app;
  add_routes(app);
  net::run(
      [&]() -> Coro<void> {
        web::AppRunner runner(app, options);
        co_await runner.start("127.0.0.1", 0);
        co_await body(runner);
        co_await runner.cleanup();
      }(),
      limit);
}

// ---- the tests ------------------------------------------------------------------------

TEST(HttpServer, RoutesMatchPathParametersAndQueryOnOneKeepAliveConnection) {
  with_server({}, [&](web::AppRunner& runner) -> Coro<void> {
    Conn c = co_await connect(runner.port());
    Reply r = co_await exchange(c, get("/page/7?q=a%20b"));
    EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(r.body, "page 7 q=a b");
    EXPECT_EQ(r.headers.at("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.headers.get("Connection"), std::nullopt);  // HTTP/1.1 keeps the connection
    EXPECT_TRUE(r.headers.contains("Date"));
    r = co_await exchange(c, get("/page/a%2Fb"));
    EXPECT_EQ(r.body, "page a/b q=");
    r = co_await exchange(c, get("/file/readme.html"));
    EXPECT_EQ(r.body, "file readme");
    EXPECT_EQ(r.headers.at("Content-Type"), "text/html; charset=utf-8");
    // HEAD: the GET route's headers, no body (the next answer starts right after them).
    r = co_await exchange(c, "HEAD /page/3 HTTP/1.1\r\n\r\n", true);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.at("Content-Length"), "9");  // len("page 3 q=")
    r = co_await exchange(c, get("/nowhere"));
    EXPECT_EQ(r.status_line, "HTTP/1.1 404 Not Found");
    EXPECT_EQ(r.body, "404: Not Found");
    r = co_await exchange(c, get("/file/.html"));  // {name} matches at least one character
    EXPECT_EQ(r.status, 404);
    r = co_await exchange(c, "POST /page/1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(r.status_line, "HTTP/1.1 405 Method Not Allowed");
    EXPECT_EQ(r.body, "405: Method Not Allowed");
    EXPECT_EQ(r.headers.at("Allow"), "GET");
    r = co_await exchange(c, get("/forbidden"));
    EXPECT_EQ(r.status_line, "HTTP/1.1 403 Forbidden");
    EXPECT_EQ(r.body, "403: Forbidden");
    EXPECT_EQ(runner.connections(), 1u);
    co_await close(c);
  });
}

TEST(HttpServer, BadRoutesAreRefused) {
  web::Application app;
  EXPECT_THROW_MSG(app.add_get("page", page), asyncio::ValueError,
                   "path should be started with / or be empty");
  EXPECT_THROW_MSG(app.add_get("/page/{n", page), asyncio::ValueError,
                   "Invalid path '/page/{n'['{n']");
  EXPECT_THROW_MSG(app.add_get("/page/{}", page), asyncio::ValueError,
                   "Invalid path '/page/{}'['{}']");
}

TEST(HttpServer, Http10ClosesUnlessKeepAliveIsAsked) {
  with_server({}, [&](web::AppRunner& runner) -> Coro<void> {
    Conn c = co_await connect(runner.port());
    Reply r = co_await exchange(c, "GET /page/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(r.status_line, "HTTP/1.0 200 OK");
    EXPECT_EQ(r.headers.at("Connection"), "keep-alive");
    r = co_await exchange(c, "GET /page/2 HTTP/1.0\r\n\r\n");
    EXPECT_EQ(r.body, "page 2 q=");
    EXPECT_EQ(r.headers.at("Connection"), "close");
    {
      bool closed_ = co_await closed_by_server(c);
      EXPECT_TRUE(closed_);
    }
    co_await close(c);
  });
}

TEST(HttpServer, MalformedRequestGets400AndTheConnectionCloses) {
  with_server({}, [&](web::AppRunner& runner) -> Coro<void> {
    for (std::string bad :
         {std::string("GARBAGE\r\n\r\n"), std::string("GET /page/1 HTTP/1.1\r\nBad Header\r\n\r\n"),
          std::string("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")}) {
      Conn c = co_await connect(runner.port());
      // A good request first: its answer comes before the 400.
      Reply r = co_await exchange(c, get("/page/1") + bad);
      EXPECT_EQ(r.status, 200);
      r = co_await read_reply(c.reader);
      EXPECT_EQ(r.status_line, "HTTP/1.1 400 Bad Request") << bad;
      EXPECT_THAT(r.body, testing::StartsWith("400: Bad Request"));
      EXPECT_EQ(r.headers.at("Connection"), "close");
      {
        bool closed_ = co_await closed_by_server(c);
        EXPECT_TRUE(closed_);
      }
      co_await close(c);
    }
  });
}

TEST(HttpServer, OversizedHeadersGet431) {
  with_server(web::ServerOptions{.max_header_size = 1024},
              [&](web::AppRunner& runner) -> Coro<void> {
                Conn ok = co_await connect(runner.port());
                Reply r = co_await exchange(
                    ok, "GET /page/1 HTTP/1.1\r\nX-Big: " + std::string(900, 'a') + "\r\n\r\n");
                EXPECT_EQ(r.status, 200);
                Conn c = co_await connect(runner.port());
                r = co_await exchange(
                    c, "GET /page/1 HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
                EXPECT_EQ(r.status_line, "HTTP/1.1 431 Request Header Fields Too Large");
                EXPECT_EQ(r.body, "431: Request Header Fields Too Large");
                {
                  bool closed_ = co_await closed_by_server(c);
                  EXPECT_TRUE(closed_);
                }
                // Many small headers count as much as one big one.
                Conn many = co_await connect(runner.port());
                std::string req = "GET /page/1 HTTP/1.1\r\n";
                for (int i = 0; i < 100; ++i) req += "X-H" + std::to_string(i) + ": 0123456789\r\n";
                r = co_await exchange(many, req + "\r\n");
                EXPECT_EQ(r.status, 431);
                co_await close(ok);
                co_await close(c);
                co_await close(many);
              });
}

TEST(HttpServer, OversizedBodyGets413) {
  with_server(
      web::ServerOptions{.client_max_size = 100}, [&](web::AppRunner& runner) -> Coro<void> {
        // Expect: 100-continue gets "100 Continue" when the body fits, then the answer.
        Conn expect = co_await connect(runner.port());
        expect.writer.write(
            "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        std::string interim = co_await expect.reader.readuntil("\r\n\r\n");
        EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
        Reply r = co_await exchange(expect, "hello");
        EXPECT_EQ(r.body, "hello");
        // ... and 413 at once when it does not.
        r = co_await exchange(
            expect, "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n");
        EXPECT_EQ(r.status, 413);
        co_await close(expect);
        Conn c = co_await connect(runner.port());
        r = co_await exchange(
            c, "POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, std::string(100, 'x'));
        r = co_await exchange(
            c, "POST /echo HTTP/1.1\r\nContent-Length: 101\r\n\r\n" + std::string(101, 'x'));
        EXPECT_EQ(r.status_line, "HTTP/1.1 413 Request Entity Too Large");
        EXPECT_EQ(r.body, "413: Request Entity Too Large");
        {
          bool closed_ = co_await closed_by_server(c);
          EXPECT_TRUE(closed_);
        }
        // Chunked: the limit counts the decoded bytes as they come.
        Conn chunked = co_await connect(runner.port());
        std::string chunk = "32\r\n" + std::string(50, 'y') + "\r\n";
        r = co_await exchange(chunked, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                           chunk + chunk + chunk);
        EXPECT_EQ(r.status, 413);
        {
          bool closed_ = co_await closed_by_server(chunked);
          EXPECT_TRUE(closed_);
        }
        co_await close(c);
        co_await close(chunked);
      });
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  with_server({}, [&](web::AppRunner& runner) -> Coro<void> {
    Conn c = co_await connect(runner.port());
    // The first takes longest: answers still come in request order.
    c.writer.write(get("/sleep/30") + get("/sleep/0") +
                   "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc" + get("/sleep/10"));
    co_await c.writer.drain();
    std::vector<std::string> bodies;
    for (int i = 0; i < 4; ++i) {
      Reply r = co_await read_reply(c.reader);
      bodies.push_back(r.body);
    }
    EXPECT_THAT(bodies, testing::ElementsAre("slept 30", "slept 0", "abc", "slept 10"));
    co_await close(c);
  });
}

TEST(HttpServer, ChunkedRequestBodyArrivingInPiecesIsDecoded) {
  with_server({}, [&](web::AppRunner& runner) -> Coro<void> {
    Conn c = co_await connect(runner.port());
    std::string req =
        "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    // Byte by byte, so that every parser state sees a split.
    for (char ch : req) {
      c.writer.write(std::string(1, ch));
      co_await c.writer.drain();
      co_await asyncio::sleep(0);
    }
    Reply r = co_await read_reply(c.reader);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "abcde");
    EXPECT_EQ(r.headers.at("Content-Type"), "application/octet-stream");
    EXPECT_EQ(r.headers.at("X-Method"), "POST");
    co_await close(c);
  });
}

TEST(HttpServer, HandlerExceptionGets500AndTheNextRequestIsServed) {
  web::Application app;
  add_routes(app);
  std::vector<std::string> logged;
  net::run([&]() -> Coro<void> {
    asyncio::get_running_loop().set_exception_handler(
        [&](asyncio::EventLoop&, const asyncio::ExceptionContext& ctx) {
          std::string what;
          try {
            std::rethrow_exception(ctx.exception);
          } catch (const std::exception& e) {
            what = e.what();
          }
          logged.push_back(ctx.message + ": " + what);
        });
    web::AppRunner runner(app);
    co_await runner.start("127.0.0.1", 0);
    Conn c = co_await connect(runner.port());
    Reply r = co_await exchange(c, get("/boom"));
    EXPECT_EQ(r.status_line, "HTTP/1.1 500 Internal Server Error");
    EXPECT_EQ(r.body, "500 Internal Server Error\n\nServer got itself in trouble");
    r = co_await exchange(c, get("/page/2"));
    EXPECT_EQ(r.body, "page 2 q=");
    co_await close(c);
    co_await runner.cleanup();
  }());
  EXPECT_THAT(logged, testing::ElementsAre("Error handling request: boom"));
}

TEST(HttpServer, IdleAndSlowClientsAreDropped) {
  with_server(web::ServerOptions{.keepalive_timeout = 0.2, .request_timeout = 0.3},
              [&](web::AppRunner& runner) -> Coro<void> {
                Conn silent = co_await connect(runner.port());
                {
                  bool closed_ = co_await closed_by_server(silent);
                  EXPECT_TRUE(closed_);
                }  // never sent a byte
                Conn after_one = co_await connect(runner.port());
                Reply r = co_await exchange(after_one, get("/page/1"));
                EXPECT_EQ(r.status, 200);
                {
                  bool closed_ = co_await closed_by_server(after_one);
                  EXPECT_TRUE(closed_);
                }  // idle after its answer
                // Slowloris: a byte now and then never completes the head.
                Conn slow = co_await connect(runner.port());
                slow.writer.write("GET /page/1 HTTP/1.1\r\n");
                auto trickle = asyncio::create_task([](Conn c) -> Coro<void> {
                  for (int i = 0; i < 1000 && !c.writer.is_closing(); ++i) {
                    c.writer.write("X");
                    co_await asyncio::sleep(0.05);
                  }
                }(slow));
                {
                  bool closed_ = co_await closed_by_server(slow);
                  EXPECT_TRUE(closed_);
                }
                trickle.cancel();
                try {
                  co_await trickle;
                } catch (const asyncio::CancelledError&) {
                }
                EXPECT_EQ(runner.connections(), 0u);
                co_await close(silent);
                co_await close(after_one);
                co_await close(slow);
              });
}

TEST(HttpServer, AThousandKeepAliveClients) {
  web::Application app;
  add_routes(app);
  net::run(
      [&]() -> Coro<void> {
        web::AppRunner runner(app);
        co_await runner.start("127.0.0.1", 0);
        int port = runner.port();
        std::vector<Coro<Conn>> connecting;
        for (int i = 0; i < 1000; ++i) connecting.push_back(connect(port));
        std::vector<Conn> conns = co_await asyncio::gather(std::move(connecting));
        auto two_requests = [](Conn& c, int i) -> Coro<std::string> {
          Reply a = co_await exchange(c, get("/page/" + std::to_string(i)));
          Reply b = co_await exchange(c, get("/page/" + std::to_string(i) + "?q=again"));
          co_return a.body + "|" + b.body;
        };
        std::vector<Coro<std::string>> requests;
        for (int i = 0; i < 1000; ++i)
          requests.push_back(two_requests(conns[static_cast<std::size_t>(i)], i));
        std::vector<std::string> got = co_await asyncio::gather(std::move(requests));
        for (int i = 0; i < 1000; ++i) {
          std::string n = std::to_string(i);
          EXPECT_EQ(got[static_cast<std::size_t>(i)], "page " + n + " q=|page " + n + " q=again");
        }
        EXPECT_EQ(runner.connections(), 1000u);  // all kept alive
        co_await runner.cleanup();               // closes the idle ones
        EXPECT_EQ(runner.connections(), 0u);
        for (auto& c : conns) {
          {
            bool closed_ = co_await closed_by_server(c);
            EXPECT_TRUE(closed_);
          }
          co_await close(c);
        }
      }(),
      120s);
}

TEST(HttpServer, TheHttpClientTalksToIt) {
  web::Application app;
  add_routes(app);
  http::RequestOptions post{.data = std::string(200 * 1024, 'z')};  // a body larger than one read
  net::run([&]() -> Coro<void> {
    web::AppRunner runner(app);
    co_await runner.start("127.0.0.1", 0);
    std::string base = "http://127.0.0.1:" + std::to_string(runner.port());
    http::ClientSession session;
    http::ClientResponse r = co_await session.get(base + "/page/5?q=x%26y");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.reason, "OK");
    EXPECT_EQ(r.content_type(), "text/plain");
    EXPECT_EQ(r.charset(), "utf-8");
    std::string text = co_await r.text();
    EXPECT_EQ(text, "page 5 q=x&y");
    r = co_await session.post(base + "/echo", post);
    std::string echoed = co_await r.read();
    EXPECT_EQ(echoed, *post.data);
    r = co_await session.get(base + "/missing");
    EXPECT_EQ(r.status, 404);
    std::vector<Coro<http::ClientResponse>> many;
    for (int i = 0; i < 100; ++i) many.push_back(session.get(base + "/page/" + std::to_string(i)));
    auto all = co_await asyncio::gather(std::move(many));
    for (int i = 0; i < 100; ++i) {
      std::string got = co_await all[static_cast<std::size_t>(i)].text();
      EXPECT_EQ(got, "page " + std::to_string(i) + " q=");
    }
    co_await session.close();
    co_await runner.cleanup();
  }());
  EXPECT_EQ(http::detail::live_easy_handles(), 0);
  EXPECT_EQ(http::detail::live_sockets(), 0);
}

TEST(HttpServer, CleanupLetsTheRequestInFlightFinishAndClosesIdleConnections) {
  web::Application app;
  asyncio::Event entered, release;
  app.add_get("/slow", [&](web::Request&) -> Coro<web::Response> {
    entered.set();
    co_await release.wait();
    co_return web::Response{.text = "done"};
  });
  add_routes(app);
  net::run([&]() -> Coro<void> {
    web::AppRunner runner(app);
    co_await runner.start("127.0.0.1", 0);
    int port = runner.port();
    Conn idle = co_await connect(port);
    Reply r = co_await exchange(idle, get("/page/1"));
    EXPECT_EQ(r.status, 200);
    Conn busy = co_await connect(port);
    busy.writer.write(get("/slow") + get("/page/2"));  // the second is dropped by the shutdown
    co_await entered.wait();
    auto cleanup = asyncio::create_task(runner.cleanup());
    {
      bool closed_ = co_await closed_by_server(idle);
      EXPECT_TRUE(closed_);
    }
    bool refused = false;
    try {
      co_await connect(port);
    } catch (const asyncio::ConnectionRefusedError&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
    EXPECT_FALSE(cleanup.done());
    release.set();
    r = co_await read_reply(busy.reader);
    EXPECT_EQ(r.body, "done");
    EXPECT_EQ(r.headers.at("Connection"), "close");
    {
      bool closed_ = co_await closed_by_server(busy);
      EXPECT_TRUE(closed_);
    }
    co_await cleanup;
    EXPECT_EQ(runner.connections(), 0u);
    co_await close(idle);
    co_await close(busy);
  }());
}

TEST(HttpServer, AClientThatGoesAwayCancelsItsHandlerAndCleanupAbortsAfterItsTimeout) {
  web::Application app;
  asyncio::Event entered, cancelled;
  app.add_get("/hang", [&](web::Request&) -> Coro<web::Response> {
    entered.set();
    try {
      co_await asyncio::sleep(3600);
    } catch (const asyncio::CancelledError&) {
      cancelled.set();
      throw;
    }
    co_return web::Response{};
  });
  app.add_get("/stubborn", [&](web::Request&) -> Coro<web::Response> {
    entered.set();
    co_await asyncio::sleep(3600);  // never answers: only the shutdown timeout ends it
    co_return web::Response{};
  });
  net::run([&]() -> Coro<void> {
    web::AppRunner runner(app, web::ServerOptions{.shutdown_timeout = 0.2});
    co_await runner.start("127.0.0.1", 0);
    Conn c = co_await connect(runner.port());
    c.writer.write(get("/hang"));
    co_await entered.wait();
    co_await close(c);
    co_await cancelled.wait();  // the handler was cancelled when the client left
    entered.clear();
    Conn s = co_await connect(runner.port());
    s.writer.write(get("/stubborn"));
    co_await entered.wait();
    co_await runner.cleanup();  // waits 0.2 s, then aborts the connection
    EXPECT_EQ(runner.connections(), 0u);
    std::string rest = co_await s.reader.read();
    EXPECT_EQ(rest, "");
    co_await close(s);
  }());
}

TEST(HttpServer, SigtermMakesServeUntilSignalShutDownGracefully) {
  web::Application app;
  add_routes(app);
  net::run([&]() -> Coro<void> {
    // A free port: listen on port 0, note it, let it go.
    int port = 0;
    {
      web::AppRunner probe(app);
      co_await probe.start("127.0.0.1", 0);
      port = probe.port();
      co_await probe.cleanup();
    }
    auto serving = asyncio::create_task(web::serve_until_signal(app, "127.0.0.1", port, {}, false));
    Conn c;
    for (int attempt = 0;; ++attempt) {  // until it listens
      try {
        c = co_await connect(port);
        break;
      } catch (const asyncio::ConnectionRefusedError&) {
        if (attempt == 100) throw;
      }
      co_await asyncio::sleep(0.01);
    }
    Reply r = co_await exchange(c, get("/page/9"));
    EXPECT_EQ(r.body, "page 9 q=");
    ::kill(::getpid(), SIGTERM);  // the loop's handler stops the server; the process lives on
    co_await serving;             // returns (no exception) once cleanup() is done
    {
      bool closed_ = co_await closed_by_server(c);
      EXPECT_TRUE(closed_);  // the idle keep-alive connection was closed
    }
    co_await close(c);
  }());
  struct sigaction now {};
  ::sigaction(SIGTERM, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);  // the handlers are removed after
}

// ---- HTTPS ---------------------------------------------------------------------------

std::shared_ptr<ssl::SSLContext> server_context(const std::string& cert, const std::string& key) {
  auto ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
  ctx->load_cert_chain(cert, key);
  return ctx;
}

/// run_app's `ssl_context=` (named: g++ 12 warns about a braced temporary in a coroutine).
web::ServerOptions https(const std::string& cert, const std::string& key) {
  web::ServerOptions options;
  options.ssl_context = server_context(cert, key);
  return options;
}

/// `ClientSession(connector=TCPConnector(ssl=create_default_context(cafile=ca)))`.
http::SessionOptions trusting(const std::string& ca) {
  http::SessionOptions options;
  options.ssl = ssl::create_default_context(ssl::Purpose::SERVER_AUTH, ca);
  return options;
}

/// What the client's request threw, as "TypeName: message" ("" when it did not throw).
Coro<std::string> fetch_error(http::ClientSession& session, std::string url) {
  try {
    co_await session.get(std::move(url));
  } catch (const http::ClientConnectorError& e) {
    co_return std::string("ClientConnectorError: ") + e.what();
  }
  co_return "";
}

TEST(HttpServer, HttpsSiteServesTheHttpClientThatTrustsItsCertificate) {
  const auto& certs = tls_certs::certs();
  web::Application app;
  add_routes(app);
  http::RequestOptions post{.data = std::string(200 * 1024, 'z')};  // many TLS records
  net::run([&]() -> Coro<void> {
    // TCPSite(runner, host, port, ssl_context=...) for one site, and
    // ServerOptions::ssl_context (run_app's ssl_context=) for the other.
    web::AppRunner runner(app, https(certs.cert, certs.key));
    co_await runner.start("127.0.0.1", 0);
    web::AppRunner explicit_site(app);
    co_await explicit_site.start("127.0.0.1", 0, server_context(certs.cert, certs.key));
    for (int port : {runner.port(), explicit_site.port()}) {
      std::string base = "https://127.0.0.1:" + std::to_string(port);
      http::ClientSession session(trusting(certs.cert));
      http::ClientResponse r = co_await session.get(base + "/page/5?q=x");
      EXPECT_EQ(r.status, 200);
      std::string text = co_await r.text();
      EXPECT_EQ(text, "page 5 q=x");
      r = co_await session.post(base + "/echo", post);
      std::string echoed = co_await r.read();
      EXPECT_EQ(echoed, *post.data);
      r = co_await session.get(base + "/missing");
      EXPECT_EQ(r.status, 404);
      co_await session.close();
      // Without our CA (the system's store, aiohttp's default) the certificate is refused.
      http::ClientSession stranger;
      std::string error = co_await fetch_error(stranger, base + "/page/1");
      EXPECT_THAT(error, ::testing::StartsWith("ClientConnectorError: Cannot connect to host 127.0.0.1:"));
      EXPECT_THAT(error, ::testing::HasSubstr("self-signed certificate"));
      co_await stranger.close();
    }
    // Plain HTTP on the TLS port is no handshake: the client gets no answer.
    http::ClientSession plain;
    EXPECT_THROW(co_await plain.get("http://127.0.0.1:" + std::to_string(runner.port()) + "/page/1"),
                 http::ClientError);
    co_await plain.close();
    co_await explicit_site.cleanup();
    co_await runner.cleanup();
  }());
  EXPECT_EQ(http::detail::live_easy_handles(), 0);
  EXPECT_EQ(http::detail::live_sockets(), 0);
}

TEST(HttpServer, AnExpiredCertificateIsRefusedWithTheVerificationError) {
  const auto& certs = tls_certs::certs();
  web::Application app;
  add_routes(app);
  net::run([&]() -> Coro<void> {
    web::AppRunner runner(app, https(certs.expired_cert, certs.expired_key));
    co_await runner.start("127.0.0.1", 0);
    std::string url = "https://127.0.0.1:" + std::to_string(runner.port()) + "/page/2";
    // Trusted, but expired: curl reports OpenSSL's X509_V_ERR_CERT_HAS_EXPIRED (10).
    // aiohttp 3.8.4 (tests/python/aiohttp_certificate_error.py): ClientConnectorCertificateError
    // "Cannot connect to host 127.0.0.1:PORT ssl:True [SSLCertVerificationError: (1, '[SSL:
    // CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:992)')]";
    // ours has no CPython source location and names the URL as every client error does.
    http::ClientSession believer(trusting(certs.expired_cert));
    try {
      co_await believer.get(url);
      ADD_FAILURE() << "an expired certificate was accepted";
    } catch (const http::ClientConnectorCertificateError& e) {
      EXPECT_STREQ(e.what(), ("Cannot connect to host 127.0.0.1:" + std::to_string(runner.port()) +
                              " ssl:True [SSLCertVerificationError: (1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate "
                              "verify failed: certificate has expired')], url=URL('" + url + "')")
                                 .c_str());
      EXPECT_EQ(e.certificate_error().verify_code(), 10);
      EXPECT_EQ(e.certificate_error().verify_message(), "certificate has expired");
      EXPECT_EQ(e.host(), "127.0.0.1");
      EXPECT_EQ(e.port(), runner.port());
    }
    // It is a ClientConnectorError too, as in aiohttp.
    std::string error = co_await fetch_error(believer, url);
    EXPECT_THAT(error, ::testing::StartsWith("ClientConnectorError: Cannot connect to host 127.0.0.1:"));
    co_await believer.close();
    // Verification off (aiohttp's ssl=False): the same server answers.
    auto unverified = ssl::create_default_context(ssl::Purpose::SERVER_AUTH);
    unverified->set_check_hostname(false);
    unverified->set_verify_mode(ssl::CERT_NONE);
    http::SessionOptions no_verification;
    no_verification.ssl = unverified;
    http::ClientSession careless(no_verification);
    http::ClientResponse r = co_await careless.get(url);
    std::string text = co_await r.text();
    EXPECT_EQ(text, "page 2 q=");
    co_await careless.close();
    co_await runner.cleanup();
  }());
  EXPECT_EQ(http::detail::live_easy_handles(), 0);
}

TEST(HttpServer, AnHttpsRequestToAPlainServerIsATlsHandshakeError) {
  web::Application app;
  add_routes(app);
  net::run([&]() -> Coro<void> {
    web::AppRunner runner(app);  // plain HTTP
    co_await runner.start("127.0.0.1", 0);
    std::string url = "https://127.0.0.1:" + std::to_string(runner.port()) + "/page/1";
    // aiohttp (tests/python/aiohttp_certificate_error.py): ClientConnectorSSLError "Cannot connect
    // to host 127.0.0.1:PORT ssl:default [[SSL: WRONG_VERSION_NUMBER] wrong version number ...]";
    // the text in brackets is curl's here.
    http::ClientSession session;
    try {
      co_await session.get(url);
      ADD_FAILURE() << "a TLS handshake with a plain HTTP server succeeded";
    } catch (const http::ClientConnectorCertificateError& e) {
      ADD_FAILURE() << "a handshake failure reported as a certificate error: " << e.what();
    } catch (const http::ClientConnectorSSLError& e) {
      EXPECT_THAT(e.what(), ::testing::StartsWith("Cannot connect to host 127.0.0.1:" + std::to_string(runner.port()) +
                                                  " ssl:default ["));
      EXPECT_THAT(e.what(), ::testing::EndsWith("], url=URL('" + url + "')"));
    }
    co_await session.close();
    co_await runner.cleanup();
  }());
  EXPECT_EQ(http::detail::live_easy_handles(), 0);
}

TEST(HttpServer, AClientSendingGarbageInsteadOfAHandshakeIsDroppedAndTheServerGoesOn) {
  const auto& certs = tls_certs::certs();
  web::Application app;
  add_routes(app);
  std::vector<std::string> reported;
  net::run([&]() -> Coro<void> {
    asyncio::get_running_loop().set_exception_handler(
        [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { reported.push_back(c.message); });
    web::AppRunner runner(app, https(certs.cert, certs.key));
    co_await runner.start("127.0.0.1", 0);
    for (int i = 0; i < 3; ++i) {
      Conn c = co_await connect(runner.port());
      c.writer.write(get("/page/1"));  // plain HTTP: not a TLS ClientHello
      co_await c.writer.drain();
      std::string received;  // at most a TLS alert; never an HTTP answer
      try {
        for (std::string part; !(part = co_await c.reader.read()).empty();) received += part;
      } catch (const asyncio::ConnectionResetError&) {
      }
      EXPECT_TRUE(c.reader.at_eof() || received.empty());
      EXPECT_EQ(received.find("HTTP/"), std::string::npos) << received;
      co_await close(c);
    }
    http::ClientSession session(trusting(certs.cert));
    http::ClientResponse r = co_await session.get("https://127.0.0.1:" + std::to_string(runner.port()) + "/page/3");
    std::string text = co_await r.text();
    EXPECT_EQ(text, "page 3 q=");
    co_await session.close();
    co_await runner.cleanup();
  }());
  EXPECT_THAT(reported, ::testing::IsEmpty());  // a failed handshake is an OSError: not reported (asyncio's rule)
}

// ---- static files and on_response_prepare ------------------------------------------------

/// A directory with a text file, an HTML file in a subdirectory, and a file beside it (outside).
struct StaticTree {
  std::filesystem::path dir;
  StaticTree() {
    char tmpl[] = "/tmp/asyncio-static-XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir / "public" / "docs");
    std::ofstream(dir / "public" / "hello.txt") << "hello\n";
    std::ofstream(dir / "public" / "docs" / "a b.html") << "<p>a b</p>";
    std::ofstream(dir / "public" / "blob.bin") << std::string("\0\1\2", 3);
    std::ofstream(dir / "secret.txt") << "secret";
    std::filesystem::create_symlink(dir / "secret.txt", dir / "public" / "link.txt");
  }
  ~StaticTree() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// aiohttp 3.8.4's answers for the same tree, printed by tests/python/http_static_aiohttp.py:
// hello.txt 200 text/plain; docs/a%20b.html 200 text/html; blob.bin application/octet-stream;
// docs 403; ../secret.txt, %2e%2e/secret.txt, docs/../../secret.txt, link.txt (a link out:
// follow_symlinks=False), nothing.txt and //etc/passwd 404 "404: Not Found".
TEST(HttpServer, StaticFilesAreServedFromTheirDirectoryOnly) {
  StaticTree tree;
  web::Application app;
  app.add_static("/static", (tree.dir / "public").string());
  EXPECT_THROW(app.add_static("static", tree.dir.string()), asyncio::ValueError);
  EXPECT_THROW(app.add_static("/x", (tree.dir / "missing").string()), asyncio::ValueError);
  net::run([&]() -> Coro<void> {
    web::AppRunner runner(app);
    co_await runner.start("127.0.0.1", 0);
    Conn c = co_await connect(runner.port());
    Reply r = co_await exchange(c, get("/static/hello.txt"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello\n");
    EXPECT_EQ(r.headers.at("Content-Type"), "text/plain");
    r = co_await exchange(c, get("/static/docs/a%20b.html"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "<p>a b</p>");
    EXPECT_EQ(r.headers.at("Content-Type"), "text/html");
    r = co_await exchange(c, get("/static/blob.bin"));
    EXPECT_EQ(r.body, std::string("\0\1\2", 3));
    EXPECT_EQ(r.headers.at("Content-Type"), "application/octet-stream");
    r = co_await exchange(c, "HEAD /static/hello.txt HTTP/1.1\r\n\r\n", true);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.at("Content-Length"), "6");
    r = co_await exchange(c, get("/static/docs"));
    EXPECT_EQ(r.status_line, "HTTP/1.1 403 Forbidden");
    for (const char* outside : {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/link.txt",
                                "/static/nothing.txt", "/static/docs/../../secret.txt", "/static//etc/passwd"}) {
      r = co_await exchange(c, get(outside));
      EXPECT_EQ(r.status, 404) << outside;
      EXPECT_EQ(r.body, "404: Not Found") << outside;
    }
    r = co_await exchange(c, "POST /static/hello.txt HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(r.status, 405);
    co_await close(c);
    co_await runner.cleanup();
  }());
}

TEST(HttpServer, OnResponsePrepareSeesEveryAnswerAndMayAddHeaders) {
  web::Application app;
  add_routes(app);
  std::vector<std::string> log;
  app.on_response_prepare.push_back([&](web::Request& request, web::Response& response) -> Coro<void> {
    co_await asyncio::sleep(0);  // a coroutine: it may await
    log.push_back(request.method + " " + request.path + " " + std::to_string(response.status));
    response.headers.add("X-Logged", "yes");
  });
  app.on_response_prepare.push_back([&](web::Request& request, web::Response&) -> Coro<void> {
    if (request.path == "/page/fail") throw std::runtime_error("prepare failed");
    co_return;
  });
  std::vector<std::string> reported;
  net::run([&]() -> Coro<void> {
    asyncio::get_running_loop().set_exception_handler(
        [&](asyncio::EventLoop&, const asyncio::ExceptionContext& ctx) {
          reported.push_back(ctx.message + ": " + asyncio::exception_message(ctx.exception));
        });
    web::AppRunner runner(app);
    co_await runner.start("127.0.0.1", 0);
    Conn c = co_await connect(runner.port());
    Reply r = co_await exchange(c, get("/page/1"));
    EXPECT_EQ(r.headers.at("X-Logged"), "yes");
    r = co_await exchange(c, get("/nowhere"));
    EXPECT_EQ(r.headers.at("X-Logged"), "yes");
    r = co_await exchange(c, get("/boom"));
    EXPECT_EQ(r.status, 500);
    r = co_await exchange(c, get("/page/fail"));  // the second callback throws: 500, logged
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.headers.get("X-Logged"), std::nullopt);
    r = co_await exchange(c, get("/page/2"));  // the connection goes on
    EXPECT_EQ(r.body, "page 2 q=");
    co_await close(c);
    co_await runner.cleanup();
  }());
  EXPECT_THAT(log, ::testing::ElementsAre("GET /page/1 200", "GET /nowhere 404", "GET /boom 500",
                                          "GET /page/fail 200", "GET /page/2 200"));
  EXPECT_THAT(reported, ::testing::ElementsAre("Error handling request: boom",
                                               "Error handling request: prepare failed"));
}

}  // namespace
