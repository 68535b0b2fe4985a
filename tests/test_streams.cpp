// streams.hpp: StreamReader's buffer semantics (virtual time, fed by hand, as
// CPython's test_streams.py does) and streams over real TCP sockets on
// 127.0.0.1 (real clock, under a watchdog).
#include "asyncio/streams.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>

#include "asyncio/locks.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/server.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/tasks_combinators.hpp"
#include "net_support.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::StreamReader;
using asyncio::StreamWriter;

namespace {

// ---- StreamReader, fed by hand ----------------------------------------------

TEST(StreamReader, ReadReturnsAtMostNBytesAsSoonAsSomeArrive) {
  auto main = []() -> Coro<void> {
    StreamReader r(asyncio::stream_default_limit);
    asyncio::get_running_loop().call_soon([r] { r.feed_data("hello world"); });
    EXPECT_EQ(co_await r.read(5), "hello");
    EXPECT_EQ(co_await r.read(100), " world");
    r.feed_eof();
    EXPECT_EQ(co_await r.read(5), "");
    EXPECT_TRUE(r.at_eof());
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, ReadWithoutSizeReadsUntilEof) {
  auto main = []() -> Coro<void> {
    StreamReader r(4);  // smaller than the data: read() is not bound by the limit
    auto feeder = [](StreamReader r) -> Coro<void> {
      for (const char* chunk : {"one ", "two ", "three"}) {
        co_await asyncio::sleep(1s);
        r.feed_data(chunk);
      }
      r.feed_eof();
    };
    auto t = asyncio::create_task(feeder(r));
    EXPECT_EQ(co_await r.read(), "one two three");
    co_await t;
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, ReadlineJoinsChunksAndReturnsThePartialLineAtEof) {
  auto main = []() -> Coro<void> {
    StreamReader r(asyncio::stream_default_limit);
    r.feed_data("li");
    asyncio::get_running_loop().call_soon([r] { r.feed_data("ne1\nline2\nlin"); });
    EXPECT_EQ(co_await r.readline(), "line1\n");
    EXPECT_EQ(co_await r.readline(), "line2\n");
    r.feed_eof();
    EXPECT_EQ(co_await r.readline(), "lin");
    EXPECT_EQ(co_await r.readline(), "");
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, ReaduntilFindsASeparatorSplitAcrossChunks) {
  auto main = []() -> Coro<void> {
    StreamReader r(asyncio::stream_default_limit);
    r.feed_data("header\r");
    asyncio::get_running_loop().call_soon([r] { r.feed_data("\n\rbody"); });
    EXPECT_EQ(co_await r.readuntil("\r\n"), "header\r\n");
    EXPECT_EQ(r.buffered(), "\rbody");
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, ReaduntilWithSeveralSeparatorsReturnsTheShortestMatch) {
  // Python 3.13: await r.readuntil((b'!!', b'?')) on b'ab?cd!!' -> b'ab?'
  auto main = []() -> Coro<void> {
    StreamReader r(asyncio::stream_default_limit);
    r.feed_data("ab?cd!!");
    // (g++ 12 cannot brace-initialise a vector inside a co_await expression.)
    const std::vector<std::string> seps = {"!!", "?"}, none;
    EXPECT_EQ(co_await r.readuntil(seps), "ab?");
    EXPECT_EQ(co_await r.readuntil(seps), "cd!!");
    EXPECT_THROW(co_await r.readuntil(none), asyncio::ValueError);
    EXPECT_THROW(co_await r.readuntil(""), asyncio::ValueError);
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, ReaduntilAtTheLimitThrowsLimitOverrunAndKeepsTheData) {
  // Python: r = StreamReader(limit=5); r.feed_data(b'abcdefgh'); readuntil(b'\n')
  // -> LimitOverrunError('Separator is not found, and chunk exceed the limit', consumed=8)
  auto main = []() -> Coro<void> {
    StreamReader r(5);
    r.feed_data("abcdefgh");
    try {
      co_await r.readuntil("\n");
      ADD_FAILURE() << "no exception";
    } catch (const asyncio::LimitOverrunError& e) {
      EXPECT_STREQ(e.what(), "Separator is not found, and chunk exceed the limit");
      EXPECT_EQ(e.consumed, 8u);
    }
    EXPECT_EQ(r.buffered(), "abcdefgh");
    r.feed_data("\n");
    try {
      co_await r.readuntil("\n");
      ADD_FAILURE() << "no exception";
    } catch (const asyncio::LimitOverrunError& e) {
      EXPECT_STREQ(e.what(), "Separator is found, but chunk is longer than limit");
      EXPECT_EQ(e.consumed, 8u);
    }
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, ReadlineOverTheLimitThrowsValueErrorAndDropsTheLine) {
  // Python: limit=3; feed b'abcdef\nxy\n'; readline() -> ValueError; readline() -> b'xy\n'
  auto main = []() -> Coro<void> {
    StreamReader r(3);
    r.feed_data("abcdef\nxy\n");
    try {
      co_await r.readline();
      ADD_FAILURE() << "no exception";
    } catch (const asyncio::ValueError& e) {
      EXPECT_STREQ(e.what(), "Separator is found, but chunk is longer than limit");
    }
    EXPECT_EQ(co_await r.readline(), "xy\n");
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, ReadexactlyAtEofThrowsIncompleteReadErrorWithThePartialData) {
  auto main = []() -> Coro<void> {
    StreamReader r(asyncio::stream_default_limit);
    r.feed_data("abc");
    EXPECT_EQ(co_await r.readexactly(2), "ab");
    r.feed_eof();
    try {
      co_await r.readexactly(5);
      ADD_FAILURE() << "no exception";
    } catch (const asyncio::IncompleteReadError& e) {
      EXPECT_EQ(e.partial, "c");
      EXPECT_EQ(e.expected, std::optional<std::size_t>(5));
      EXPECT_STREQ(e.what(), "1 bytes read on a total of 5 expected bytes");
    }
    EXPECT_THROW(co_await r.readexactly(-1), asyncio::ValueError);
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, ACancelledReadLosesNoByte) {
  auto main = []() -> Coro<void> {
    StreamReader r(asyncio::stream_default_limit);
    // readexactly(10) has 6 bytes when it is cancelled: they stay in the buffer.
    auto reading = asyncio::create_task(r.readexactly(10));
    co_await asyncio::sleep(0s);
    r.feed_data("abcdef");
    co_await asyncio::sleep(0s);
    reading.cancel();
    EXPECT_THROW(co_await reading, asyncio::CancelledError);
    EXPECT_TRUE(reading.cancelled());
    r.feed_data("ghij");
    EXPECT_EQ(co_await r.readexactly(10), "abcdefghij");
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, AReadTimedOutByWaitForLeavesTheStreamReadyForTheNextRead) {
  // Python (3.11):
  //   r = asyncio.StreamReader()
  //   try: await asyncio.wait_for(r.read(5), 0.01)
  //   except TimeoutError: print("timeout")
  //   r.feed_data(b"abc"); print(await r.read(5))       # b'abc'
  // The read that timed out leaves no waiter behind (the next read may wait)
  // and takes no byte.
  auto main = []() -> Coro<void> {
    StreamReader r(asyncio::stream_default_limit);
    EXPECT_THROW(co_await asyncio::wait_for(r.read(5), 10ms), asyncio::TimeoutError);
    auto next = asyncio::create_task(r.read(5));
    co_await asyncio::sleep(0s);  // it waits: no "already waiting" error
    r.feed_data("abc");
    EXPECT_EQ(co_await next, "abc");
    // A read object is awaitable once, as a coroutine is.
    auto once = r.read(1);
    r.feed_data("d");
    EXPECT_EQ(co_await once, "d");
    try {
      co_await once;
      ADD_FAILURE() << "no exception";
    } catch (const asyncio::RuntimeError& e) {
      EXPECT_STREQ(e.what(), "cannot reuse already awaited coroutine");
    }
    auto moved = std::move(once);
    try {
      co_await once;
      ADD_FAILURE() << "no exception";
    } catch (const asyncio::RuntimeError& e) {
      EXPECT_STREQ(e.what(), "cannot await an empty or moved-from coroutine");
    }
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, AReadOutlivesEveryHandleOfItsReader) {
  // Python (3.11):
  //   r = asyncio.StreamReader(); r.feed_data(b"abc"); r.feed_eof()
  //   c = r.read(5); d = r.read(5)
  //   del r
  //   print(await c, await d)        # b'abc' b''
  // A read holds a counted reference to the reader's state (no atomics), as
  // the coroutine Python's read() returns holds `self`: the last handle may
  // go first (under ASan, a dangling state would be a use after free).
  auto main = []() -> Coro<void> {
    std::optional<asyncio::detail::StreamReadAwaiter> c, d;
    {
      StreamReader r(asyncio::stream_default_limit);
      r.feed_data("abc");
      r.feed_eof();
      c.emplace(r.read(5));
      d.emplace(r.read(5));
    }
    auto& cr = *c;  // (g++ 12 copies the awaiter of `co_await *c`)
    auto& dr = *d;
    std::string first = co_await cr;
    std::string second = co_await dr;
    EXPECT_EQ(first, "abc");
    EXPECT_EQ(second, "");
    c.reset();
    d.reset();  // the last reference: the state goes with it (ASan: no leak)
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, ReadsThatWaitInTurnEachGetTheirDataAndACancelledOneLeavesTheNextWorking) {
  // Python (3.11):
  //   r = asyncio.StreamReader(); loop = asyncio.get_running_loop()
  //   for chunk in (b"a", b"bc", b"def"):
  //       loop.call_soon(r.feed_data, chunk); print(await r.read(5))   # b'a' b'bc' b'def'
  //   t = asyncio.create_task(r.read(5)); await asyncio.sleep(0); t.cancel()
  //   try: await t
  //   except asyncio.CancelledError: print("cancelled")
  //   loop.call_soon(r.feed_data, b"g"); print(await r.read(5))       # b'g'
  // (Each wait reuses the reader's waiter future: rearmed after a result and after a cancel.)
  auto main = []() -> Coro<void> {
    StreamReader r(asyncio::stream_default_limit);
    auto& loop = asyncio::get_running_loop();
    std::vector<std::string> got;
    for (const char* chunk : {"a", "bc", "def"}) {
      loop.call_soon([r, chunk] { r.feed_data(chunk); });
      got.push_back(co_await r.read(5));
    }
    EXPECT_EQ(got, (std::vector<std::string>{"a", "bc", "def"}));
    auto t = asyncio::create_task(r.read(5));
    co_await asyncio::sleep(0s);
    t.cancel();
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    loop.call_soon([r] { r.feed_data("g"); });
    EXPECT_EQ(co_await r.read(5), "g");
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, AReadThatWaitsBeforeAWokenReadRunsIsWokenByTheNextData) {
  // Python (3.11), the same steps:
  //   r = asyncio.StreamReader()
  //   a = asyncio.create_task(r.read(5)); await asyncio.sleep(0)
  //   r.feed_data(b"x")              # wakes a; before a runs, main reads, then waits itself
  //   print(await r.read(5))         # b'x'
  //   (later: r.feed_data(b"yz"))
  //   print(await r.read(5))         # CPython: never woken (a's _wait_for_data `finally`
  //                                  # clears main's _waiter); here: b'yz'
  //   print(await a)                 # b'' (a found the buffer emptied by main)
  // A documented difference: a read clears the stream's waiter only when it is
  // its own, so main's wait is not lost. (It also waits on the future in its
  // awaiter: the reader's kept one is still a's until a runs.)
  auto main = []() -> Coro<void> {
    StreamReader r(asyncio::stream_default_limit);
    auto a = asyncio::create_task(r.read(5));
    co_await asyncio::sleep(0s);
    r.feed_data("x");
    EXPECT_EQ(co_await r.read(5), "x");
    asyncio::get_running_loop().call_later(10ms, [r] { r.feed_data("yz"); });
    EXPECT_EQ(co_await r.read(5), "yz");
    EXPECT_EQ(co_await a, "");
    // Both futures are free again: the next read waits as usual.
    asyncio::get_running_loop().call_soon([r] { r.feed_data("w"); });
    EXPECT_EQ(co_await r.read(5), "w");
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, TwoReadersWaitingAtOnceIsARuntimeError) {
  auto main = []() -> Coro<void> {
    StreamReader r(asyncio::stream_default_limit);
    auto first = asyncio::create_task(r.read(1));
    co_await asyncio::sleep(0s);
    try {
      co_await r.read(1);
      ADD_FAILURE() << "no exception";
    } catch (const asyncio::RuntimeError& e) {
      EXPECT_STREQ(e.what(), "read() called while another coroutine is already waiting for incoming data");
    }
    r.feed_data("x");
    EXPECT_EQ(co_await first, "x");
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, SetExceptionWakesTheWaitingReadWithIt) {
  auto main = []() -> Coro<void> {
    StreamReader r(asyncio::stream_default_limit);
    asyncio::get_running_loop().call_soon(
        [r] { r.set_exception(std::make_exception_ptr(asyncio::ConnectionResetError(104, "Connection reset by peer"))); });
    EXPECT_THROW(co_await r.read(10), asyncio::ConnectionResetError);
    EXPECT_THROW(co_await r.readline(), asyncio::ConnectionResetError);
  };
  test::run_virtual(main());
  test::expect_no_frames();
}

TEST(StreamReader, FeedDataAfterFeedEofIsAnError) {
  StreamReader r(asyncio::stream_default_limit);
  r.feed_eof();
  EXPECT_THROW(r.feed_data("x"), asyncio::RuntimeError);
  EXPECT_THROW(StreamReader(0), asyncio::ValueError);
}

// ---- streams over TCP ------------------------------------------------------------

Coro<void> handle_echo(StreamReader reader, StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(4096);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

// The server's side of a connection reports the same addresses as the
// client's, crossed: its sockname is the client's peername and its peername
// the client's sockname. A server takes them from accept() and from its
// listener where it can (no getsockname/getpeername); on a wildcard listener
// (0.0.0.0) the local address is where the client connected, not 0.0.0.0.
// Python: in the handler, writer.get_extra_info("sockname") ==
// ("127.0.0.1", port) and get_extra_info("peername") == the client's sockname.
TEST(Streams, AnAcceptedConnectionReportsTheAddressesTheClientSeesCrossed) {
  for (const char* host : {"127.0.0.1", "0.0.0.0"}) {
    SCOPED_TRACE(host);
    auto main = [](std::string listen_on) -> Coro<void> {
      std::optional<asyncio::SocketAddress> server_sockname, server_peername;
      auto on_client = [&](StreamReader reader, StreamWriter writer) -> Coro<void> {
        server_sockname = writer.get_extra_info("sockname").address();
        server_peername = writer.get_extra_info("peername").address();
        co_await reader.read();  // until the client's EOF
        writer.close();
        co_await writer.wait_closed();
      };
      auto server = co_await asyncio::start_server(on_client, listen_on, 0);
      int port = server->sockets().at(0).port;
      auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
      writer.write_eof();
      EXPECT_EQ(co_await reader.read(), "");
      asyncio::SocketAddress client_sockname = writer.get_extra_info("sockname").address();
      asyncio::SocketAddress client_peername = writer.get_extra_info("peername").address();
      writer.close();
      co_await writer.wait_closed();
      server->close();
      co_await server->wait_closed();
      EXPECT_EQ(client_peername.host, "127.0.0.1");
      EXPECT_EQ(client_peername.port, port);
      EXPECT_EQ(server_sockname, std::optional(client_peername));
      EXPECT_EQ(server_peername, std::optional(client_sockname));
    };
    net::run(main(host));
  }
}

TEST(Streams, EchoServerAndClientExchangeMessagesOverTcp) {
  auto main = []() -> Coro<void> {
    auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0);
    int port = server->sockets().at(0).port;
    EXPECT_GT(port, 0);
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    EXPECT_EQ(writer.get_extra_info("peername").address(), server->sockets()[0]);
    writer.write("Hello World!\n");
    co_await writer.drain();
    EXPECT_EQ(co_await reader.readline(), "Hello World!\n");
    writer.write_eof();
    EXPECT_EQ(co_await reader.read(), "");
    EXPECT_TRUE(reader.at_eof());
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(Streams, ConnectingToAClosedPortIsConnectionRefusedError) {
  auto main = []() -> Coro<void> {
    // A port that was free a moment ago: bind one, close it, connect to it.
    auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0);
    int port = server->sockets().at(0).port;
    server->close();
    co_await server->wait_closed();
    try {
      co_await asyncio::open_connection("127.0.0.1", port);
      ADD_FAILURE() << "no exception";
    } catch (const asyncio::ConnectionRefusedError& e) {
      EXPECT_EQ(e.errnum(), ECONNREFUSED);
      EXPECT_EQ(std::string(e.what()),
                "[Errno 111] Connect call failed ('127.0.0.1', " + std::to_string(port) + ")");
    }
  };
  net::run(main());
}

TEST(Streams, APortInUseIsOSErrorNamingTheAddress) {
  auto main = []() -> Coro<void> {
    auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0);
    int port = server->sockets().at(0).port;
    try {
      co_await asyncio::start_server(handle_echo, "127.0.0.1", port);
      ADD_FAILURE() << "no exception";
    } catch (const asyncio::OSError& e) {
      EXPECT_EQ(e.errnum(), EADDRINUSE);
      EXPECT_EQ(std::string(e.what()), "[Errno 98] error while attempting to bind on address ('127.0.0.1', " +
                                           std::to_string(port) + "): address already in use");
    }
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

// SO_REUSEADDR follows reuse_address (libuv's bind would always set it). Twin:
//   for kw in ({}, {"reuse_address": False}, {"reuse_address": True}):
//       srv = await asyncio.start_server(cb, "127.0.0.1", 0, **kw)
//       print(kw, srv.sockets[0].getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0)
// prints True, False, True.
TEST(Streams, ReuseAddressSetsSoReuseaddrOnlyWhenAsked) {
  std::vector<bool> got;
  auto main = [&]() -> Coro<void> {
    for (bool reuse : {true, false, true}) {
      asyncio::ServerOptions options;
      options.reuse_address = reuse;
      auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0, options);
      int on = -1;
      socklen_t len = sizeof on;
      EXPECT_EQ(::getsockopt(server->fds().at(0), SOL_SOCKET, SO_REUSEADDR, &on, &len), 0);
      got.push_back(on != 0);
      server->close();
      co_await server->wait_closed();
    }
  };
  net::run(main());
  EXPECT_EQ(got, (std::vector<bool>{true, false, true}));
}

/// FNV-1a over everything fed to it: a checksum of a stream, chunk by chunk.
struct Checksum {
  std::uint64_t h = 14695981039346656037ull;
  std::size_t n = 0;
  void add(std::string_view d) {
    for (unsigned char c : d) h = (h ^ c) * 1099511628211ull;
    n += d.size();
  }
};

/// Deterministic pseudo-random bytes (so that a reordering would show).
std::string pattern(std::size_t size, std::uint32_t seed) {
  std::string s(size, '\0');
  for (auto& c : s) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>(seed >> 24);
  }
  return s;
}

TEST(Streams, A100MegabyteTransferBothWaysKeepsItsChecksum) {
  // The client sends 100 MB through the echo server while reading the echo
  // back; both directions are checked with the same checksum.
  auto main = []() -> Coro<void> {
    auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0);
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", server->sockets()[0].port);
    const std::size_t total = 100u << 20;
    Checksum sent;
    // Shared with the receiving task: if the watchdog cancels main, the task
    // outlives this frame until the loop cancels it.
    auto received_ptr = std::make_shared<Checksum>();
    Checksum& received = *received_ptr;
    auto receive = [](StreamReader reader, std::shared_ptr<Checksum> received, std::size_t total) -> Coro<void> {
      while (received->n < total) {
        std::string data = co_await reader.read(1 << 16);
        if (data.empty()) break;
        received->add(data);
      }
    };
    auto receiving = asyncio::create_task(receive(reader, received_ptr, total));
    std::uint32_t seed = 1;
    while (sent.n < total) {
      std::string chunk = pattern(std::min<std::size_t>(total - sent.n, 1 << 18), seed++);
      sent.add(chunk);
      writer.write(std::move(chunk));
      co_await writer.drain();
      EXPECT_LE(writer.transport()->get_write_buffer_size(), 64u * 1024 + (1u << 18));
    }
    co_await receiving;
    EXPECT_EQ(received.n, total);
    EXPECT_EQ(received.h, sent.h);
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(Streams, AReaderThatStopsReadingPausesTheTransportAndLosesNothing) {
  // A 1 KiB-limit reader that does not read: the transport is paused once the
  // buffer passes 2 * limit, and resumed as it is read down to the limit.
  auto main = []() -> Coro<void> {
    const std::size_t total = 8u << 20;
    const std::string data = pattern(total, 7);
    auto send_all = [&data](StreamReader, StreamWriter writer) -> Coro<void> {
      writer.write(data);
      co_await writer.drain();
      writer.close();
      co_await writer.wait_closed();
    };
    auto server = co_await asyncio::start_server(send_all, "127.0.0.1", 0);
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", server->sockets()[0].port, 1024);
    while (reader.buffered().size() <= 2 * 1024) co_await asyncio::sleep(1ms);
    for (int i = 0; i < 20; ++i) co_await asyncio::sleep(1ms);
    EXPECT_FALSE(writer.transport()->is_reading());
    // At most one read's worth past the mark (the read that crossed it).
    EXPECT_LE(reader.buffered().size(), 2 * 1024 + 256 * 1024);
    std::string got = co_await reader.read();
    EXPECT_EQ(got.size(), total);
    EXPECT_TRUE(got == data);
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(Streams, DrainWaitsWhileThePeerDoesNotRead) {
  auto main = []() -> Coro<void> {
    auto ev = std::make_shared<asyncio::Event>();
    auto slow = [ev](StreamReader reader, StreamWriter writer) -> Coro<void> {
      co_await ev->wait();  // does not read until told
      while (!(co_await reader.read(1 << 16)).empty()) {
      }
      writer.close();
    };
    auto server = co_await asyncio::start_server(slow, "127.0.0.1", 0);
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", server->sockets()[0].port);
    std::string chunk(1 << 20, 'd');
    auto fill = [](StreamWriter writer, std::string chunk) -> Coro<int> {
      int drains = 0;
      for (int i = 0; i < 64; ++i) {
        writer.write(chunk);
        co_await writer.drain();
        ++drains;
      }
      co_return drains;
    };
    auto filling = asyncio::create_task(fill(writer, chunk));
    for (int i = 0; i < 50; ++i) co_await asyncio::sleep(1ms);
    EXPECT_FALSE(filling.done());  // 64 MiB cannot fit in the kernel's buffers: drain() waits
    EXPECT_GT(writer.transport()->get_write_buffer_size(), 64u * 1024);
    ev->set();
    EXPECT_EQ(co_await filling, 64);
    writer.write_eof();
    EXPECT_EQ(co_await reader.read(), "");
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(Streams, AThousandSimultaneousConnectionsAreAllServed) {
  auto main = []() -> Coro<void> {
    asyncio::ServerOptions options{.backlog = 1024};  // named: g++ 12 (events.hpp)
    auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0, options);
    int port = server->sockets()[0].port;
    auto client = [](int port, int i) -> Coro<int> {
      auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
      writer.write("client " + std::to_string(i) + "\n");
      std::string line = co_await reader.readline();
      writer.close();
      co_await writer.wait_closed();
      co_return line == "client " + std::to_string(i) + "\n" ? 1 : 0;
    };
    std::vector<asyncio::Task<int>> clients;
    for (int i = 0; i < 1000; ++i) clients.push_back(asyncio::create_task(client(port, i)));
    auto ok = co_await asyncio::gather(clients);
    int sum = 0;
    for (int v : ok) sum += v;
    EXPECT_EQ(sum, 1000);
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

// Python twin of the handler (W4's server, bench/w4_echo.cpp):
//   async def handle_echo_moved(reader, writer):
//       while data := await reader.read(65536):
//           writer.write(data)
//           await writer.drain()
//       writer.close()
Coro<void> handle_echo_moved(StreamReader reader, StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(65536);
    if (data.empty()) break;
    writer.write(std::move(data));  // the transport may keep the allocation for the next read
    co_await writer.drain();
  }
  writer.close();
}

TEST(Streams, AnEchoWritingTheStringItReadSendsBackExactlyEachMessage) {
  // Many connections at once, each a request/response sequence of messages of
  // varied sizes and contents: the reused buffers (spare_bytes.hpp) must carry
  // no byte of an earlier message into a later one, on any connection.
  auto main = []() -> Coro<void> {
    auto server = co_await asyncio::start_server(handle_echo_moved, "127.0.0.1", 0);
    int port = server->sockets()[0].port;
    auto client = [](int port, int id) -> Coro<int> {
      auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
      int good = 0;
      for (int i = 0; i < 100; ++i) {
        std::string message = pattern(1 + static_cast<std::size_t>((id * 37 + i * 11) % 200),
                                      static_cast<std::uint32_t>(id * 1000 + i));
        writer.write(message);
        co_await writer.drain();
        std::string echo = co_await reader.readexactly(static_cast<std::ptrdiff_t>(message.size()));
        if (echo == message) ++good;
      }
      writer.write_eof();
      bool clean_eof = (co_await reader.read()).empty();  // nothing more than what was sent
      writer.close();
      co_await writer.wait_closed();
      co_return clean_eof ? good : -1;
    };
    std::vector<asyncio::Task<int>> clients;
    for (int id = 0; id < 20; ++id) clients.push_back(asyncio::create_task(client(port, id)));
    auto results = co_await asyncio::gather(clients);
    for (int good : results) EXPECT_EQ(good, 100);
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(Streams, CancellingAPendingReadOverTcpKeepsTheData) {
  auto main = []() -> Coro<void> {
    auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0);
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", server->sockets()[0].port);
    auto reading = asyncio::create_task(reader.readexactly(6));
    writer.write("abc");
    while (reader.buffered().size() < 3) co_await asyncio::sleep(1ms);
    reading.cancel();
    EXPECT_THROW(co_await reading, asyncio::CancelledError);
    writer.write("def");
    EXPECT_EQ(co_await reader.readexactly(6), "abcdef");
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(Streams, DrainAfterTheConnectionIsLostIsConnectionResetError) {
  // Python: writer.close(); await writer.wait_closed(); writer.write(b'x') is
  // dropped; await writer.drain() -> ConnectionResetError('Connection lost')
  auto main = []() -> Coro<void> {
    auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0);
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", server->sockets()[0].port);
    writer.close();
    EXPECT_TRUE(writer.is_closing());
    co_await writer.wait_closed();
    writer.write("dropped");
    try {
      co_await writer.drain();
      ADD_FAILURE() << "no exception";
    } catch (const asyncio::ConnectionResetError& e) {
      EXPECT_STREQ(e.what(), "Connection lost");
    }
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

Coro<void> close_without_reading(StreamReader, StreamWriter writer) {
  co_await asyncio::sleep(50ms);
  writer.close();
}

TEST(Streams, DrainIntoAPeerThatClosedWithoutReadingIsConnectionResetError) {
  // Python (the same on 3.11-3.13; it ignores SIGPIPE at start-up):
  //   async def handle(reader, writer): await asyncio.sleep(0.05); writer.close()
  //   server = await asyncio.start_unix_server(handle, path)
  //   reader, writer = await asyncio.open_unix_connection(path)
  //   writer.write(b"x" * (4 * 1024 * 1024)); await writer.drain()
  //   -> ConnectionResetError [Errno 104] Connection reset by peer; the process goes on.
  // What the socket buffer does not take is queued and written later by the
  // loop; the peer's close turns that write into ECONNRESET (EPIPE once the
  // reset was seen), raised by drain.
  auto main = []() -> Coro<void> {
    std::string path = testing::TempDir() + "asyncio-sigpipe-" + std::to_string(::getpid()) + ".sock";
    auto server = co_await asyncio::start_unix_server(close_without_reading, path);
    auto [reader, writer] = co_await asyncio::open_unix_connection(path);
    writer.write(std::string(4 * 1024 * 1024, 'x'));
    try {
      co_await writer.drain();
      ADD_FAILURE() << "drained 4 MiB into a peer that closed without reading";
    } catch (const asyncio::ConnectionError& e) {  // ConnectionResetError or BrokenPipeError
      EXPECT_TRUE(e.errnum() == ECONNRESET || e.errnum() == EPIPE) << e.what();
    }
    writer.close();
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

TEST(Streams, OpeningAConnectionIgnoresSigpipeAsPythonDoesAtStartUp) {
  // Python sets SIGPIPE to SIG_IGN at start-up: a write to a socket or pipe
  // whose reader is gone raises BrokenPipeError instead of killing the process.
  // The library does it when it makes its first transport. ctest runs this test
  // in a process of its own, where nothing has done it yet.
  struct sigaction before {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &before), 0);
  if (before.sa_handler != SIG_DFL) GTEST_SKIP() << "SIGPIPE was not at its default: run this test alone";
  auto main = []() -> Coro<void> {
    auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0);
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", server->sockets()[0].port);
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
  struct sigaction after {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, SIG_IGN);
  ::signal(SIGPIPE, SIG_DFL);
}

TEST(Streams, UnixServerAndConnection) {
  auto main = []() -> Coro<void> {
    std::string path = testing::TempDir() + "asyncio-streams-" + std::to_string(::getpid()) + ".sock";
    auto server = co_await asyncio::start_unix_server(handle_echo, path);
    auto [reader, writer] = co_await asyncio::open_unix_connection(path);
    writer.write("line\n");
    EXPECT_EQ(co_await reader.readline(), "line\n");
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
  };
  net::run(main());
}

}  // namespace
