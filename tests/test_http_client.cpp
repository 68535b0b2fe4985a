// The HTTP client (http/client.hpp) against a raw socket server that can
// misbehave (raw_http_server.hpp), on the real clock under a watchdog, plus
// one virtual-time check. Expected values that come from aiohttp's behaviour
// were checked with /usr/bin/python3 (aiohttp 3.8.4) against the same replies;
// the script is quoted above the tests that use it.
#include "asyncio/http/client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "asyncio/runners.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/tasks_combinators.hpp"
#include "raw_http_server.hpp"
#include "watchdog.hpp"
#include "support.hpp"
#include "sanitized.hpp"

using namespace std::chrono_literals;
namespace http = asyncio::http;
using testing::ElementsAre;
using testing::HasSubstr;

namespace {

/// Runs `main` on the real clock under a watchdog, then checks that nothing
/// leaked: frames, easy handles, curl's sockets.
template <class F>
void run_real(F&& main) {
  test::Watchdog dog(::testing::UnitTest::GetInstance()->current_test_info()->name(), 60s);
  asyncio::run(main());
  test::expect_no_frames();
  EXPECT_EQ(http::detail::live_easy_handles(), 0);
  EXPECT_EQ(http::detail::allocated_easy_handles(), 0);  // the sessions' idle handles freed too
  EXPECT_EQ(http::detail::live_sockets(), 0);
}

/// A server that answers every request on a connection with `reply` (raw bytes).
test::RawServer::Handler always(std::string reply) {
  return [reply](test::RawConnection& c) {
    test::RawRequest r;
    while (c.read_request(r)) c.send(reply);
  };
}

/// Catches what `aw` throws, as an exception_ptr (null when it returns).
template <class T>
asyncio::Coro<std::exception_ptr> error_of(asyncio::Coro<T> aw) {
  try {
    co_await std::move(aw);
  } catch (...) {
    co_return std::current_exception();
  }
  co_return nullptr;
}

template <class E>
std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const E& x) {
    return x.what();
  } catch (...) {
    return "<another exception type>";
  }
  return "<no exception>";
}

/// Awaits `t` (to catch what it throws with error_of).
asyncio::Coro<> await_task(asyncio::Task<http::ClientResponse> t) { co_await t; }

/// Cancels every task, then checks that each one ended cancelled.
asyncio::Coro<> cancel_all(std::vector<asyncio::Task<http::ClientResponse>>& tasks) {
  for (auto& t : tasks) t.cancel();
  for (auto& t : tasks) EXPECT_NE(co_await error_of(await_task(t)), nullptr);
  for (auto& t : tasks) EXPECT_TRUE(t.cancelled());
}

/// A listening socket on 127.0.0.1 whose accept queue is full (backlog 0,
/// one connection made and never accepted): the kernel drops further SYNs,
/// so a client's connect stays in progress.
class FullListener {
 public:
  FullListener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    filler_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener_ < 0 || filler_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(listener_, 0) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
        ::connect(filler_, reinterpret_cast<sockaddr*>(&a), len) != 0)
      throw std::runtime_error("FullListener: cannot set up");
    port_ = ntohs(a.sin_port);
  }
  FullListener(const FullListener&) = delete;
  FullListener& operator=(const FullListener&) = delete;
  ~FullListener() {
    ::close(filler_);
    ::close(listener_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  int listener_ = -1;
  int filler_ = -1;
  int port_ = 0;
};

// "Käse & Brötchen ✓" — Python: len('Käse & Brötchen ✓') == 17, its UTF-8 has 21 bytes.
const std::string kUnicode = "K\xc3\xa4se & Br\xc3\xb6tchen \xe2\x9c\x93";

TEST(ClientSession, GetReturnsStatusReasonHeadersAndTheDecodedText) {
  test::RawServer server(always("HTTP/1.1 200 Fine\r\nContent-Type: text/html; charset=UTF-8\r\nX-Multi: a\r\n"
                                "x-multi: b\r\nContent-Length: 21\r\n\r\n" + kUnicode));
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    http::ClientResponse r = co_await session.get(server.url("/page"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.reason, "Fine");
    EXPECT_EQ(r.url, server.url("/page"));
    EXPECT_EQ(r.headers.at("content-type"), "text/html; charset=UTF-8");
    EXPECT_THAT(r.headers.getall("X-MULTI"), ElementsAre("a", "b"));
    EXPECT_EQ(r.content_type(), "text/html");
    EXPECT_EQ(r.charset(), "UTF-8");
    std::string text = co_await r.text();
    EXPECT_EQ(text, kUnicode);
    EXPECT_EQ(http::len(text), 17u);
    auto got1 = co_await r.read();
    EXPECT_EQ(got1.size(), 21u);
    EXPECT_THROW((void)r.headers.at("X-Missing"), std::out_of_range);
    co_await session.close();
  });
}

TEST(ClientSession, PostSendsMethodBodyAndHeadersWithTheSessionDefaults) {
  test::RawServer server([](test::RawConnection& c) {
    test::RawRequest r;
    while (c.read_request(r))
      c.respond(200, "OK", r.method + "|" + r.body + "|" + r.header("X-Default") + "|" + r.header("X-Token"));
  });
  // (g++ 12 rejects braced lists of string literals inside a coroutine: built outside.)
  http::SessionOptions session_options{.headers = {{"X-Default", "d"}, {"X-Token", "session"}}};
  http::RequestOptions post_options{.headers = {{"x-token", "request"}}, .data = "a=1&b=2"};
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session(session_options);
    auto r = co_await session.post(server.url("/form"), post_options);
    auto got2 = co_await r.text();
    EXPECT_EQ(got2, "POST|a=1&b=2|d|request");
    auto g = co_await session.get(server.url("/"));
    auto got3 = co_await g.text();
    EXPECT_EQ(got3, "GET||d|session");
    co_await session.close();
  });
}

TEST(ClientSession, ChunkedBodiesAreReassembled) {
  test::RawServer server(always("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "5\r\nhello\r\n1\r\n \r\n6\r\nchunks\r\n0\r\n\r\n"));
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    auto r = co_await session.get(server.url());
    auto got4 = co_await r.read();
    EXPECT_EQ(got4, "hello chunks");
    co_await session.close();
  });
}

TEST(ClientSession, GzipBodiesAreDecompressedAndAcceptEncodingIsSent) {
  // Python: gzip.compress(b'hello gzip ' * 20, mtime=0)
  const std::string gz(
      "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9\x57\x48\xaf\xca\x2c\x50\xc8\x18\x6e\x4c\x00"
      "\xd9\x94\xfb\xac\xdc\x00\x00\x00",
      34);
  std::string accept_encoding;
  test::RawServer server([&](test::RawConnection& c) {
    test::RawRequest r;
    while (c.read_request(r)) {
      accept_encoding = r.header("Accept-Encoding");
      c.respond(200, "OK", gz, "Content-Encoding: gzip\r\n");
    }
  });
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    auto r = co_await session.get(server.url());
    std::string expected;
    for (int i = 0; i < 20; ++i) expected += "hello gzip ";
    auto got5 = co_await r.read();
    EXPECT_EQ(got5, expected);
    co_await session.close();
  });
  EXPECT_EQ(accept_encoding, "gzip, deflate");  // aiohttp's
}

// aiohttp 3.8.4 against the same replies (the server sends the bytes, then closes):
//   b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort" -> 200; r.text() raises
//       ClientPayloadError('Response payload is not completed')
//   b"garbage\r\n\r\n" -> ClientResponseError: 400, message='Expected HTTP/', url=URL(...)
//   b"" -> ServerDisconnectedError('Server disconnected')
//   http://127.0.0.1:1/ -> ClientConnectorError: Cannot connect to host 127.0.0.1:1 ssl:default [...]
//   'not a url', 'http:///y' -> InvalidURL
TEST(ClientSession, ABodyCutShortRaisesClientPayloadErrorFromReadAndText) {
  test::RawServer server([](test::RawConnection& c) {
    test::RawRequest r;
    if (c.read_request(r)) c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
  });
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    auto r = co_await session.get(server.url("/cut"));
    EXPECT_EQ(r.status, 200);
    auto e = co_await error_of(r.read());
    EXPECT_EQ(message_of<http::ClientPayloadError>(e),
              "Response payload is not completed, url=URL('" + server.url("/cut") + "')");
    auto got6 = co_await error_of(r.text());
    EXPECT_NE(got6, nullptr);
    co_await session.close();
  });
}

TEST(ClientSession, AMalformedStatusLineRaisesClientResponseError400) {
  test::RawServer server(always("garbage\r\n\r\n"));
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    auto e = co_await error_of(session.get(server.url("/bad")));
    try {
      std::rethrow_exception(e);
    } catch (const http::ClientResponseError& x) {
      EXPECT_EQ(x.status(), 400);
      EXPECT_THAT(x.what(), HasSubstr("url=URL('" + server.url("/bad") + "')"));
    } catch (...) {
      ADD_FAILURE() << "not a ClientResponseError";
    }
    co_await session.close();
  });
}

TEST(ClientSession, AServerClosingWithoutAnAnswerRaisesServerDisconnectedError) {
  test::RawServer server([](test::RawConnection& c) {
    test::RawRequest r;
    c.read_request(r);
  });
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    auto e = co_await error_of(session.get(server.url("/x")));
    EXPECT_EQ(message_of<http::ServerDisconnectedError>(e),
              "Server disconnected, url=URL('" + server.url("/x") + "')");
    co_await session.close();
  });
}

TEST(ClientSession, ARefusedConnectionRaisesClientConnectorError) {
  int port;
  {
    test::RawServer server(always(""));
    port = server.port();
  }  // closed: nothing listens there now
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    auto e = co_await error_of(session.get(url));
    EXPECT_EQ(message_of<http::ClientConnectorError>(e),
              "Cannot connect to host 127.0.0.1:" + std::to_string(port) +
                  " ssl:default [Connection refused], url=URL('" + url + "')");
    co_await session.close();
  });
}

TEST(ClientSession, AnUnknownHostRaisesClientConnectorError) {
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    auto e = co_await error_of(session.get("http://nonexistent.invalid/x"));
    EXPECT_THAT(message_of<http::ClientConnectorError>(e),
                HasSubstr("Cannot connect to host nonexistent.invalid:80 ssl:default ["));
    co_await session.close();
  });
}

TEST(ClientSession, BadUrlsRaiseInvalidURLNamingTheUrl) {
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    for (std::string url : {"not a url", "http:///y", "ftp://example.com/file", "", "http//x"}) {
      auto e = co_await error_of(session.get(url));
      EXPECT_EQ(message_of<http::InvalidURL>(e), url);
    }
    co_await session.close();
  });
}

TEST(ClientSession, ANeverAnsweringServerRaisesTimeoutErrorAndTheConnectionIsClosed) {
  test::RawServer server([&](test::RawConnection& c) {
    test::RawRequest r;
    if (c.read_request(r)) c.wait_for_eof();
  });
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    auto e = co_await error_of(session.get(server.url("/never"), {.timeout = http::ClientTimeout{.total = 200ms}}));
    EXPECT_NE(message_of<asyncio::TimeoutError>(e), "<another exception type>");
    EXPECT_EQ(http::detail::live_easy_handles(), 0);  // removed from curl at once
    co_await session.close();
  });
  EXPECT_TRUE(server.wait_until([&] { return server.open_now() == 0; })) << "the client left its socket open";
}

TEST(ClientSession, RedirectsAreFollowedUnlessDisallowed) {
  test::RawServer server([](test::RawConnection& c) {
    test::RawRequest r;
    while (c.read_request(r)) {
      if (r.path == "/old") {
        c.respond(302, "Found", "moved", "Location: /new\r\n");
      } else if (r.path.rfind("/loop", 0) == 0) {
        c.respond(302, "Found", "", "Location: /loop" + std::to_string(r.path.size()) + "\r\n");
      } else {
        c.respond(200, "OK", "new page");
      }
    }
  });
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    auto followed = co_await session.get(server.url("/old"));
    EXPECT_EQ(followed.status, 200);
    EXPECT_EQ(followed.url, server.url("/new"));
    auto got7 = co_await followed.text();
    EXPECT_EQ(got7, "new page");
    auto kept = co_await session.get(server.url("/old"), {.allow_redirects = false});
    EXPECT_EQ(kept.status, 302);
    EXPECT_EQ(kept.headers.at("Location"), "/new");
    auto got8 = co_await kept.text();
    EXPECT_EQ(got8, "moved");
    auto e = co_await error_of(session.get(server.url("/loop"), {.max_redirects = 3}));
    EXPECT_NE(message_of<http::TooManyRedirects>(e), "<another exception type>");
    co_await session.close();
  });
}

TEST(ClientSession, ConnectionsAreReusedWithinASession) {
  test::RawServer server(always("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    for (int i = 0; i < 5; ++i) EXPECT_EQ((co_await session.get(server.url())).status, 200);
    co_await session.close();
  });
  EXPECT_EQ(server.accepted(), 1);
}


/// Bytes of the heap (`[heap]` in /proc/self/smaps) that the kernel may back
/// with transparent huge pages (VmFlags `hg`: advised MADV_HUGEPAGE).
std::size_t heap_bytes_advised_huge() {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  std::size_t size = 0, total = 0;
  bool heap = false;
  while (std::getline(smaps, line)) {
    unsigned long begin = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s ", &begin, &end, perms) == 3) {  // a mapping's first line
      heap = line.size() >= 6 && line.compare(line.size() - 6, 6, "[heap]") == 0;
      size = end - begin;
    } else if (heap && line.rfind("VmFlags:", 0) == 0 && (line + " ").find(" hg ") != std::string::npos) {
      total += size;
    }
  }
  return total;
}

// A session of thousands of connections grows glibc's heap by what they
// will need (16 KiB each: 32 MiB for 2,000, less what is free) and advises it MADV_HUGEPAGE
// before curl touches it (http/heap.hpp): one page fault per 2 MiB instead of
// one per 4 KiB. The heap keeps that much free at its top afterwards.
TEST(ClientSession, ASessionOfThousandsOfConnectionsKeepsItsHeapOnHugePages) {
#if !defined(__GLIBC__) || defined(ASYNCIO_TEST_SANITIZED)
  GTEST_SKIP() << "glibc's own heap only (a sanitizer brings its own allocator)";
#endif
  if (!std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) GTEST_SKIP() << "no transparent huge pages";
  test::RawServer server(always("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session({.limit = 2000});
    EXPECT_EQ((co_await session.get(server.url())).status, 200);
    EXPECT_GE(heap_bytes_advised_huge(), std::size_t{24} << 20);  // more than any smaller session asks
    co_await session.close();
  });
}

// SessionOptions::huge_page_heap = false: the session leaves malloc alone (no
// M_TOP_PAD, no advice), however many connections it may open.
TEST(ClientSession, ASessionToldNotToTouchTheHeapLeavesItUnadvised) {
#if !defined(__GLIBC__) || defined(ASYNCIO_TEST_SANITIZED)
  GTEST_SKIP() << "glibc's own heap only (a sanitizer brings its own allocator)";
#endif
  if (!std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) GTEST_SKIP() << "no transparent huge pages";
  // The advice is process-wide: run after a session that gave it, this test proves nothing
  // (ctest runs it in a process of its own).
  if (heap_bytes_advised_huge() != 0) GTEST_SKIP() << "the heap was advised earlier in this process";
  test::RawServer server(always("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session({.limit = 2000, .huge_page_heap = false});
    EXPECT_EQ((co_await session.get(server.url())).status, 200);
    EXPECT_EQ(heap_bytes_advised_huge(), std::size_t{0});
    co_await session.close();
  });
}

/// The body the server below sends for GET /N: N bytes, each one's index mod 251.
std::string pattern_body(std::size_t n) {
  std::string body(n, '\0');
  for (std::size_t i = 0; i < n; ++i) body[i] = static_cast<char>(i % 251);
  return body;
}

// The client sizes curl's receive buffer from the session's last body (1 KiB
// after a small one): bodies of every size, small and large in turns, on one
// reused connection and on several at once, must arrive whole and in order.
TEST(ClientSession, BodiesOfAnySizeArriveWholeWhateverCameBefore) {
  test::RawServer server([](test::RawConnection& c) {
    test::RawRequest r;
    while (c.read_request(r)) c.respond(200, "OK", pattern_body(std::stoul(r.path.substr(1))));
  });
  const std::vector<std::size_t> sizes{10, 200'000, 0, 1023, 1024, 1025, 70'000, 5, 16'384, 3};
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    for (std::size_t n : sizes) {
      auto r = co_await session.get(server.url("/" + std::to_string(n)));
      EXPECT_EQ(co_await r.read(), pattern_body(n)) << n;
    }
    std::vector<asyncio::Coro<std::string>> all;
    for (std::size_t n : sizes) {
      all.push_back([](http::ClientSession& s, std::string url) -> asyncio::Coro<std::string> {
        auto r = co_await s.get(url);
        co_return co_await r.read();
      }(session, server.url("/" + std::to_string(n))));
    }
    auto bodies = co_await asyncio::gather(std::move(all));
    for (std::size_t i = 0; i < sizes.size(); ++i) EXPECT_EQ(bodies[i], pattern_body(sizes[i])) << sizes[i];
    co_await session.close();
  });
}

/// The body of the response to `request`.
asyncio::Coro<std::string> body_of(asyncio::Coro<http::ClientResponse> request) {
  http::ClientResponse r = co_await std::move(request);
  co_return co_await r.read();
}

// Easy handles go back to the pool without a reset after a plain GET, and with
// one after a request that set more (a method, a body): what one request set
// must not leak into the next on the same handle. The server answers with the
// method, path, body and X-One header it received.
TEST(ClientSession, AReusedEasyHandleKeepsNothingOfTheRequestBefore) {
  test::RawServer server([](test::RawConnection& c) {
    test::RawRequest r;
    while (c.read_request(r)) {
      std::string echo = r.method + " " + r.path + " [" + r.body + "]";
      if (std::string one = r.header("X-One"); !one.empty()) echo += " X-One=" + one;
      if (r.method == "HEAD") {
        c.send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(echo.size()) + "\r\n\r\n");
      } else {
        c.respond(200, "OK", echo);
      }
    }
  });
  // (g++ 12 rejects braced lists of string literals inside a coroutine: built outside.)
  const http::RequestOptions body_options{.data = "body"}, x_options{.data = "x"};
  const http::RequestOptions header_options{.headers = {{"X-One", "1"}}};
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session({.limit = 1});  // one connection, one easy handle in turn
    std::string got = co_await body_of(session.get(server.url("/a")));
    EXPECT_EQ(got, "GET /a []");
    got = co_await body_of(session.post(server.url("/b"), body_options));
    EXPECT_EQ(got, "POST /b [body]");
    got = co_await body_of(session.get(server.url("/c")));
    EXPECT_EQ(got, "GET /c []");
    got = co_await body_of(session.request("PUT", server.url("/d"), x_options));
    EXPECT_EQ(got, "PUT /d [x]");
    http::ClientResponse head = co_await session.request("HEAD", server.url("/e"));
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.headers.at("Content-Length"), "10");  // "HEAD /e []"'s size, no body read
    got = co_await head.read();
    EXPECT_EQ(got, "");
    got = co_await body_of(session.get(server.url("/f"), header_options));
    EXPECT_EQ(got, "GET /f [] X-One=1");
    got = co_await body_of(session.get(server.url("/g")));
    EXPECT_EQ(got, "GET /g []");
    co_await session.close();
  });
  EXPECT_EQ(server.accepted(), 1);  // all on one connection
}

/// `n` concurrent requests on a session with `limit`: the server holds every
/// answer until `limit` connections are open at once (or 5 s passed), so a
/// client that serialised its requests would give a maximum of 1, one that
/// ignored the limit more than `limit`, one that let requests wait inside curl
/// fewer than `limit`; every body comes back to its own request, and the
/// connections are reused (no more than `limit` accepted).
void expect_requests_reach_the_limit_and_stay_within_it(int limit, int n) {
  std::atomic<bool> released{false};
  test::RawServer* self = nullptr;
  test::RawServer server([&](test::RawConnection& c) {
    test::RawRequest r;
    while (c.read_request(r)) {
      if (!released) {
        self->wait_until([&] { return self->open_now() >= limit; }, 5s);
        released = true;
      }
      c.respond(200, "OK", r.path);
    }
  });
  self = &server;
  std::size_t most_waiting = 0;
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session({.limit = static_cast<std::size_t>(limit)});
    std::vector<asyncio::Task<std::string>> tasks;
    for (int i = 0; i < n; ++i) {
      tasks.push_back(asyncio::create_task([](http::ClientSession& s, std::string url) -> asyncio::Coro<std::string> {
        auto r = co_await s.get(url);
        co_return co_await r.text();
      }(session, server.url("/" + std::to_string(i)))));
    }
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    most_waiting = session.waiting();
    EXPECT_LE(session.in_flight(), static_cast<std::size_t>(limit));
    auto bodies = co_await asyncio::gather(tasks);
    for (int i = 0; i < n; ++i) EXPECT_EQ(bodies[static_cast<std::size_t>(i)], "/" + std::to_string(i));
    co_await session.close();
  });
  EXPECT_EQ(server.max_open(), limit);
  EXPECT_LE(server.accepted(), limit);  // connections were reused
  EXPECT_EQ(most_waiting, static_cast<std::size_t>(n - limit));
}

TEST(ClientSession, TwoHundredConcurrentRequestsStayWithinTheLimit) {
  expect_requests_reach_the_limit_and_stay_within_it(10, 200);
}

TEST(ClientSession, ALargeLimitIsSharedOverSeveralCurlHandlesAndStillHeld) {
  // A limit above 256 spreads the transfers over several curl multi handles
  // (300: three, a share of 100 each; curl_multi.hpp): the shares add up to the
  // limit, and a transfer goes where there is room, so all 300 connections open.
  expect_requests_reach_the_limit_and_stay_within_it(300, 900);
}

TEST(ClientSession, ARequestQueuedForASlotTimesOutAndLeavesTheQueue) {
  // limit=1: the first request holds the only slot; the second waits in the
  // queue until its own total timeout passes (aiohttp counts the wait for a
  // connection in `total` too).
  test::RawServer server([](test::RawConnection& c) {
    test::RawRequest r;
    if (c.read_request(r)) c.wait_for_eof();
  });
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session({.limit = 1});
    auto first = asyncio::create_task(error_of(session.get(server.url("/hang"))));
    while (session.in_flight() == 0) co_await asyncio::sleep(1ms);
    auto second = asyncio::create_task(
        error_of(session.get(server.url("/queued"), {.timeout = http::ClientTimeout{.total = 100ms}})));
    co_await asyncio::sleep(0);
    EXPECT_EQ(session.waiting(), 1u);
    auto e = co_await second;
    EXPECT_NE(message_of<asyncio::TimeoutError>(e), "<another exception type>");
    EXPECT_EQ(session.waiting(), 0u);
    EXPECT_EQ(session.in_flight(), 1u);
    co_await session.close();
    auto closed = co_await first;
    EXPECT_NE(message_of<http::ClientConnectionError>(closed), "<another exception type>");
  });
  EXPECT_EQ(server.accepted(), 1);  // the queued request never reached the server
}

TEST(ClientSession, CancellingRequestsInFlightRemovesThemFromCurlAtOnce) {
  constexpr int n = 20;
  test::RawServer server([&](test::RawConnection& c) {
    test::RawRequest r;
    if (c.read_request(r)) {
      ++server.requests;  // NOLINT: the server outlives its handlers
      c.wait_for_eof();
    }
  });
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    std::vector<asyncio::Task<http::ClientResponse>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(session.get(server.url("/hang"))));
    while (server.requests < n) co_await asyncio::sleep(5ms);  // every request reached the server
    EXPECT_EQ(http::detail::live_easy_handles(), n);
    EXPECT_EQ(session.in_flight(), static_cast<std::size_t>(n));
    co_await cancel_all(tasks);
    EXPECT_EQ(http::detail::live_easy_handles(), 0);
    EXPECT_EQ(session.in_flight(), 0u);
    co_await session.close();
  });
  EXPECT_TRUE(server.wait_until([&] { return server.open_now() == 0; })) << "sockets left open";
}

TEST(ClientSession, CancellingRequestsWhoseConnectionsWaitForTheirTurnLeavesNothing) {
  // A limit of 300 spreads the transfers over three curl multi handles, and
  // new connections are paced (curl_multi.hpp, "Pacing"): once one handle's
  // transfers opened theirs, the next handle's wait for the loop's next poll.
  // Cancelled then (some with a connection, the others still waiting for
  // theirs), every request leaves curl at once, nothing leaks, and the
  // session goes on working.
  constexpr int n = 300;
  test::RawServer server([](test::RawConnection& c) {
    test::RawRequest r;
    while (c.read_request(r)) {
      if (r.path == "/hang") {
        c.wait_for_eof();
        return;
      }
      c.respond(200, "OK", "after");
    }
  });
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session({.limit = n});
    std::vector<asyncio::Task<http::ClientResponse>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(session.get(server.url("/hang"))));
    while (session.in_flight() < static_cast<std::size_t>(n) || http::detail::live_sockets() == 0)
      co_await asyncio::sleep(0);
    // Connections opened for some transfers, not for all: the others wait for their turn.
    EXPECT_LT(http::detail::live_sockets(), n);
    EXPECT_EQ(http::detail::live_easy_handles(), n);
    co_await cancel_all(tasks);
    EXPECT_EQ(http::detail::live_easy_handles(), 0);
    EXPECT_EQ(session.in_flight(), 0u);
    auto r = co_await session.get(server.url("/after"));
    auto text = co_await r.text();
    EXPECT_EQ(text, "after");
    co_await session.close();
  });
  EXPECT_TRUE(server.wait_until([&] { return server.open_now() == 0; })) << "sockets left open";
}

TEST(ClientSession, CancellingARequestWhileItConnectsClosesItsSocket) {
  // The server's accept queue is full, so the connect stays in progress.
  // Cancelled then, the request leaves curl at once and its socket is closed
  // and forgotten (curl 7.88 closes such a socket without
  // CURLOPT_CLOSESOCKETFUNCTION: curl_multi.cpp); the session goes on.
  FullListener server;
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    auto task = asyncio::create_task(session.get(server.url()));
    while (http::detail::live_sockets() == 0) co_await asyncio::sleep(1ms);
    co_await asyncio::sleep(20ms);  // still connecting: the server's SYN queue drops it
    EXPECT_EQ(session.in_flight(), 1u);
    EXPECT_EQ(http::detail::live_sockets(), 1);
    task.cancel();
    EXPECT_NE(co_await error_of(await_task(task)), nullptr);
    EXPECT_TRUE(task.cancelled());
    EXPECT_EQ(session.in_flight(), 0u);
    EXPECT_EQ(http::detail::live_sockets(), 0);
    co_await session.close();
  });
}

TEST(ClientSession, ClosingTheSessionEndsRequestsInFlight) {
  test::RawServer server([](test::RawConnection& c) {
    test::RawRequest r;
    if (c.read_request(r)) c.wait_for_eof();
  });
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    auto task = asyncio::create_task(error_of(session.get(server.url("/hang"))));
    while (session.in_flight() == 0) co_await asyncio::sleep(1ms);
    co_await session.close();
    EXPECT_TRUE(session.closed());
    auto e = co_await task;
    EXPECT_EQ(message_of<http::ClientConnectionError>(e), "Session is closed, url=URL('" + server.url("/hang") + "')");
    auto again = co_await error_of(session.get(server.url("/")));
    EXPECT_EQ(message_of<asyncio::RuntimeError>(again), "Session is closed");
  });
}

TEST(ClientSession, VirtualTimeDoesNotJumpWhileARequestIsInFlight) {
  // The server answers after 300 ms of real time. Were virtual time to jump
  // while the request is in flight, the 5 s timeout would fire at once.
  test::RawServer server([](test::RawConnection& c) {
    test::RawRequest r;
    while (c.read_request(r)) {
      std::this_thread::sleep_for(300ms);
      c.respond(200, "OK", "late");
    }
  });
  test::Watchdog dog(::testing::UnitTest::GetInstance()->current_test_info()->name(), 60s);
  test::run_virtual([&]() -> asyncio::Coro<> {
    http::ClientSession session({.timeout = {.total = 5s}});
    auto r = co_await session.get(server.url());
    auto got9 = co_await r.text();
    EXPECT_EQ(got9, "late");
    co_await session.close();
  }());
  test::expect_no_frames();
  EXPECT_EQ(http::detail::live_sockets(), 0);
}

TEST(ClientResponse, TextDecodesTheCharsetAndRejectsInvalidBytesAsPython) {
  // Python: b'caf\xe9'.decode('iso-8859-1') == 'café';
  //         b'abc\xff'.decode('utf-8') raises UnicodeDecodeError:
  //         'utf-8' codec can't decode byte 0xff in position 3: invalid start byte
  test::RawServer server([](test::RawConnection& c) {
    test::RawRequest r;
    while (c.read_request(r)) {
      if (r.path == "/latin1") c.respond(200, "OK", "caf\xe9", "Content-Type: text/plain; charset=iso-8859-1\r\n");
      else c.respond(200, "OK", "abc\xff", "Content-Type: text/plain\r\n");
    }
  });
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session;
    auto latin = co_await session.get(server.url("/latin1"));
    EXPECT_EQ(latin.charset(), "iso-8859-1");
    std::string text = co_await latin.text();
    EXPECT_EQ(text, "caf\xc3\xa9");
    EXPECT_EQ(http::len(text), 4u);
    auto bad = co_await session.get(server.url("/bad"));
    EXPECT_EQ(bad.charset(), std::nullopt);
    auto e = co_await error_of(bad.text());
    EXPECT_EQ(message_of<http::UnicodeDecodeError>(e),
              "'utf-8' codec can't decode byte 0xff in position 3: invalid start byte");
    auto got10 = co_await bad.text("latin-1");
    EXPECT_EQ(got10, "abc\xc3\xbf");
    co_await session.close();
  });
}

TEST(ClientSession, PrintsItsState) {
  run_real([&]() -> asyncio::Coro<> {
    http::ClientSession session({.limit = 7});
    std::ostringstream os;
    os << session;
    EXPECT_EQ(os.str(), "<ClientSession in_flight=0 waiting=0 limit=7>");
    co_await session.close();
    os.str("");
    os << session;
    EXPECT_EQ(os.str(), "<ClientSession closed>");
  });
}

}  // namespace
