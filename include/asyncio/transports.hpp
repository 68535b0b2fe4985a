#pragma once
/// \file transports.hpp
/// Transports: the loop's side of a connection (CPython `asyncio/transports.py`).
///
/// A transport owns a socket or pipe and moves bytes; a protocol
/// (protocols.hpp) receives what happens. The loop makes both: `create_connection`,
/// `create_server`, `create_unix_connection`, ... (events.hpp) call the protocol
/// factory, make the transport, and call `protocol.connection_made(transport)`.
///
/// ```cpp
/// auto [transport, protocol] = co_await loop.create_connection(
///     [] { return std::make_shared<EchoClient>(); }, "127.0.0.1", port);
/// transport->write("hello");       // Python: transport.write(b"hello")
/// transport->close();
/// ```
///
/// Bytes are `std::string` (any bytes, not only text): `write` takes a
/// `std::string_view` (copied only if it cannot be sent at once) or a
/// `std::string&&` (moved); `data_received` gets a `std::string_view` valid
/// during the call.
///
/// Lifetime: transports are held by `std::shared_ptr`. While open, a transport
/// keeps itself alive; it lets go after `connection_lost` has been called. A
/// protocol may keep the `Transport&` it gets in `connection_made` until its
/// `connection_lost` returns (or `shared_from_this()` it to keep it longer).
///
/// Write flow control (CPython's `_FlowControlMixin`): when the write buffer
/// grows above the high-water mark (64 KiB) the protocol's `pause_writing()` is
/// called; when it drains to the low-water mark (16 KiB) or below,
/// `resume_writing()`. `StreamWriter::drain()` waits on exactly this.
///
/// Errors: a write after `write_eof()` throws RuntimeError("Cannot call write()
/// after write_eof()"); a write after `close()` or after the connection was
/// lost is dropped, as in CPython (a warning is logged after 5 of them), and
/// `StreamWriter::drain()` then throws ConnectionResetError("Connection lost").
/// I/O errors close the transport and reach the protocol as the exception
/// given to `connection_lost` (an OSError subclass, exceptions.hpp).
///
/// Thread safety: a transport is used on its loop's thread only.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace asyncio {

class BaseProtocol;
namespace ssl {
class SSLContext;
class SSLObject;
struct PeerCertificate;
struct CipherInfo;
}  // namespace ssl

/// A socket address (Python's address tuple): host and port for IPv4/IPv6
/// (`('127.0.0.1', 8888)`), or a path for a Unix socket (`port` is -1).
/// Prints as Python's repr: `('127.0.0.1', 8888)`, `('::1', 8888, 0, 0)`, `'/tmp/s'`.
///
/// g++ 12: do not build one as a temporary inside a `co_await` expression
/// (`co_await loop.getnameinfo(SocketAddress{...})` destroys it twice, a
/// compiler bug); name it first (`SocketAddress addr{...}; co_await loop.getnameinfo(addr)`).
struct SocketAddress {
  std::string host;  ///< numeric host (IPv4, IPv6) or the Unix socket path
  int port = -1;     ///< -1 for a Unix socket
  int family = 0;    ///< AF_INET, AF_INET6 or AF_UNIX
  std::uint32_t flowinfo = 0;
  std::uint32_t scope_id = 0;
  bool is_unix() const noexcept { return port < 0; }
  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
  friend std::ostream& operator<<(std::ostream& os, const SocketAddress& a);
  /// `str()` of the repr above, for messages.
  std::string repr() const;
};

/// What `get_extra_info(name)` returns: nothing, an address ("peername",
/// "sockname"), a descriptor ("socket", "pipe": the fd number, since C++ has no
/// socket objects), or on a TLS transport (ssl.hpp) the "ssl_object",
/// "peercert", "cipher" and "sslcontext". `operator bool` is Python's `is not None`.
class ExtraInfo {
 public:
  ExtraInfo() = default;
  ExtraInfo(SocketAddress a) : v_(std::move(a)) {}
  explicit ExtraInfo(int fd) : v_(fd) {}
  ExtraInfo(std::shared_ptr<const ssl::SSLObject> o) : v_(std::move(o)) {}
  ExtraInfo(std::shared_ptr<const ssl::PeerCertificate> c) : v_(std::move(c)) {}
  ExtraInfo(std::shared_ptr<const ssl::CipherInfo> c) : v_(std::move(c)) {}
  ExtraInfo(std::shared_ptr<ssl::SSLContext> c) : v_(std::move(c)) {}
  /// "ssl_object"; std::bad_variant_access when this is not one.
  const ssl::SSLObject& ssl_object() const { return *std::get<std::shared_ptr<const ssl::SSLObject>>(v_); }
  /// "peercert" (Python's dict; empty when not verified).
  const ssl::PeerCertificate& peercert() const { return *std::get<std::shared_ptr<const ssl::PeerCertificate>>(v_); }
  /// "cipher" (Python's 3-tuple).
  const ssl::CipherInfo& cipher() const { return *std::get<std::shared_ptr<const ssl::CipherInfo>>(v_); }
  /// "sslcontext".
  const std::shared_ptr<ssl::SSLContext>& sslcontext() const {
    return std::get<std::shared_ptr<ssl::SSLContext>>(v_);
  }
  explicit operator bool() const noexcept { return !std::holds_alternative<std::monostate>(v_); }
  /// The address; std::bad_variant_access when this is not one.
  const SocketAddress& address() const { return std::get<SocketAddress>(v_); }
  /// The file descriptor; std::bad_variant_access when this is not one.
  int fd() const { return std::get<int>(v_); }
  bool is_address() const noexcept { return std::holds_alternative<SocketAddress>(v_); }
  friend std::ostream& operator<<(std::ostream& os, const ExtraInfo& e);

 private:
  std::variant<std::monostate, SocketAddress, int, std::shared_ptr<const ssl::SSLObject>,
               std::shared_ptr<const ssl::PeerCertificate>, std::shared_ptr<const ssl::CipherInfo>,
               std::shared_ptr<ssl::SSLContext>>
      v_;
};

/// Base of all transports (`asyncio.BaseTransport`).
class BaseTransport : public std::enable_shared_from_this<BaseTransport> {
 public:
  virtual ~BaseTransport() = default;
  /// "peername", "sockname", "socket" (the fd); nothing for other names.
  virtual ExtraInfo get_extra_info(std::string_view name) const = 0;
  /// True once close() or abort() was called, or the connection was lost.
  virtual bool is_closing() const = 0;
  /// Closes after the buffered data is sent; the protocol's connection_lost(nullptr)
  /// is called on a later iteration. Idempotent.
  virtual void close() = 0;
  virtual void set_protocol(std::shared_ptr<BaseProtocol> protocol) = 0;
  virtual std::shared_ptr<BaseProtocol> get_protocol() const = 0;
  /// `<TCPTransport fd=7 read=polling write=<idle, bufsize=0>>`-style state.
  virtual void print(std::ostream& os) const = 0;
  friend std::ostream& operator<<(std::ostream& os, const BaseTransport& t) {
    t.print(os);
    return os;
  }
};

/// The reading half (`asyncio.ReadTransport`).
class ReadTransport : public virtual BaseTransport {
 public:
  virtual bool is_reading() const = 0;
  /// Stops calling data_received until resume_reading(); no-op when paused or closing.
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
};

/// The writing half (`asyncio.WriteTransport`).
class WriteTransport : public virtual BaseTransport {
 public:
  /// Sends `data` (or buffers what cannot be sent now). Never blocks.
  virtual void write(std::string_view data) = 0;
  virtual void write(std::string&& data) { write(std::string_view(data)); }
  void write(const char* data) { write(std::string_view(data)); }
  void write(const std::string& data) { write(std::string_view(data)); }
  /// write() of each buffer, in order.
  virtual void writelines(const std::vector<std::string>& list) {
    for (const auto& d : list) write(std::string_view(d));
  }
  /// Closes the write end after the buffered data is flushed (half-close).
  virtual void write_eof() = 0;
  virtual bool can_write_eof() const = 0;
  /// Closes at once, dropping buffered data; connection_lost(nullptr) follows.
  virtual void abort() = 0;
  /// Bytes buffered, not yet handed to the system.
  virtual std::size_t get_write_buffer_size() const = 0;
  /// (low, high).
  virtual std::pair<std::size_t, std::size_t> get_write_buffer_limits() const = 0;
  /// CPython's rules: high defaults to 64 KiB (4*low when only low is given),
  /// low to high/4; ValueError unless high >= low >= 0.
  virtual void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                       std::optional<std::size_t> low = std::nullopt) = 0;
};

/// A bidirectional stream transport: TCP, Unix socket, pipe (`asyncio.Transport`).
class Transport : public ReadTransport, public WriteTransport {};

/// A datagram (UDP) transport (`asyncio.DatagramTransport`).
class DatagramTransport : public virtual BaseTransport {
 public:
  /// Sends one datagram to `addr` (nullopt: to the connected peer).
  virtual void sendto(std::string_view data, std::optional<SocketAddress> addr = std::nullopt) = 0;
  /// Closes at once, dropping buffered datagrams.
  virtual void abort() = 0;
  virtual std::size_t get_write_buffer_size() const = 0;
};

namespace detail {
/// How many libuv handles the library owns right now (allocated and not yet
/// freed by their close callback): 0 after a loop has closed. For tests.
std::size_t uv_handles_alive() noexcept;
}  // namespace detail

}  // namespace asyncio
