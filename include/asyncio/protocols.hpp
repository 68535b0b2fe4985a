#pragma once
/// \file protocols.hpp
/// Protocols: the user's side of a connection (CPython `asyncio/protocols.py`).
///
/// Derive from `Protocol` and override what you need; the loop calls the
/// methods on its thread, in this order: `connection_made`, then any number of
/// `data_received`, at most one `eof_received`, then exactly one
/// `connection_lost` (`pause_writing`/`resume_writing` in between, by the write
/// flow control). An exception escaping a callback is a fatal error of the
/// connection: reported through the loop's exception handler and the transport
/// is aborted, as in CPython.
///
/// ```cpp
/// struct EchoServer : asyncio::Protocol {            // Python: class EchoServer(asyncio.Protocol)
///   asyncio::Transport* transport = nullptr;
///   void connection_made(asyncio::Transport& t) override { transport = &t; }
///   void data_received(std::string_view data) override { transport->write(data); }
/// };
/// auto server = co_await loop.create_server([] { return std::make_shared<EchoServer>(); },
///                                           "127.0.0.1", 8888);
/// ```
///
/// Thread safety: callbacks run on the loop's thread.
#include <cstddef>
#include <exception>
#include <memory>
#include <span>
#include <string_view>

#include "asyncio/transports.hpp"

namespace asyncio {

/// Base of all protocols (`asyncio.BaseProtocol`).
class BaseProtocol {
 public:
  virtual ~BaseProtocol() = default;
  /// The connection is closed: `exc` is null on EOF or close(), else the error.
  virtual void connection_lost(std::exception_ptr exc) { (void)exc; }
  /// The transport's write buffer went over its high-water mark.
  virtual void pause_writing() {}
  /// ... and back to its low-water mark or below.
  virtual void resume_writing() {}
};

/// A stream protocol (`asyncio.Protocol`): TCP, Unix sockets, pipes.
class Protocol : public BaseProtocol {
 public:
  /// The connection is made; `transport` stays valid until connection_lost returns.
  virtual void connection_made(Transport& transport) { (void)transport; }
  /// Some bytes arrived (valid during the call only).
  virtual void data_received(std::string_view data) { (void)data; }
  /// The peer closed its write end. Return true to keep the connection open
  /// for writing (half-close); false (the default) closes the transport.
  virtual bool eof_received() { return false; }
};

/// A stream protocol that lends its own buffer (`asyncio.BufferedProtocol`):
/// the transport reads straight into `get_buffer()` (no copy), then calls
/// `buffer_updated(n)`. Derives from Protocol here so that one transport type
/// serves both; `data_received` is not called for it.
class BufferedProtocol : public Protocol {
 public:
  /// A buffer to read into; at least 1 byte (`sizehint` is a suggestion).
  virtual std::span<char> get_buffer(std::size_t sizehint) = 0;
  /// `nbytes` were written at the start of the last buffer.
  virtual void buffer_updated(std::size_t nbytes) = 0;

 private:
  void data_received(std::string_view) final {}
};

/// A datagram protocol (`asyncio.DatagramProtocol`): UDP.
class DatagramProtocol : public BaseProtocol {
 public:
  virtual void connection_made(DatagramTransport& transport) { (void)transport; }
  /// One datagram from `addr`.
  virtual void datagram_received(std::string_view data, const SocketAddress& addr) {
    (void)data;
    (void)addr;
  }
  /// A send or receive failed (an OSError); the endpoint stays open.
  virtual void error_received(std::exception_ptr exc) { (void)exc; }
};

}  // namespace asyncio
