#pragma once
/// \file ssl.hpp
/// TLS for streams and servers: Python's `ssl` module as far as asyncio uses it
/// (`SSLContext`, `create_default_context`, `SSLError`, `SSLCertVerificationError`,
/// the `ssl_object` a transport reports), on OpenSSL.
///
/// TLS is a protocol layered on any stream transport, as in CPython's
/// `asyncio/sslproto.py`: an `SSLProtocol` (private, src/sslproto.cpp) sits on
/// the TCP transport, runs OpenSSL over two memory BIOs, and gives the
/// application's protocol a transport of its own (Python's
/// `_SSLProtocolTransport`) that encrypts what it is given.
///
/// ```cpp
/// namespace ssl = asyncio::ssl;
/// // Client: verification and host name checking are on (CERT_REQUIRED).
/// auto ctx = ssl::create_default_context();          // Python: ssl.create_default_context()
/// ctx->load_verify_locations("ca.pem");               // or the system store (the default)
/// auto [reader, writer] = co_await asyncio::open_connection("example.org", 443, {.ssl = ctx});
/// // Server:
/// auto sctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
/// sctx->load_cert_chain("cert.pem", "key.pem");
/// auto server = co_await asyncio::start_server(handle, "127.0.0.1", 8443, {.ssl = sctx});
/// // Upgrade an open connection (STARTTLS): Python's `await writer.start_tls(ctx)`.
/// co_await writer.start_tls(ctx);
/// ```
///
/// Keyword arguments map to the option structs of events.hpp: `ssl=`,
/// `server_hostname=`, `ssl_handshake_timeout=` (60 s by default) and
/// `ssl_shutdown_timeout=` (30 s) are fields of `ConnectionOptions`,
/// `ServerOptions` and `StartTLSOptions`. As in Python, `server_hostname`
/// defaults to the host connected to; a hostname is checked with the
/// certificate's DNS names, an IP address with its IP addresses; SNI is sent
/// for names, not for IP addresses.
///
/// `get_extra_info` on a TLS transport adds, as Python's: "ssl_object" (the
/// `SSLObject`: version(), cipher(), getpeercert(), selected_alpn_protocol()),
/// "peercert" (`PeerCertificate`: Python's dict; empty when the certificate was
/// not verified, nothing when the peer sent none), "cipher" (`CipherInfo`,
/// Python's 3-tuple), "sslcontext"; other names go to the TCP transport
/// ("peername", "socket", ...).
///
/// Errors (Python's classes and messages):
/// - a failed handshake: `SSLError`, or `SSLCertVerificationError` when the
///   peer's certificate is refused, with Python's message
///   `[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed
///   certificate` (Python appends the C source line, `(_ssl.c:1006)`, which
///   means nothing here and is left out);
/// - a handshake that takes longer than `ssl_handshake_timeout`:
///   ConnectionAbortedError("SSL handshake is taking longer than 60.0 seconds:
///   aborting the connection");
/// - a shutdown (close_notify exchange) that takes longer than
///   `ssl_shutdown_timeout`: the connection is aborted with
///   TimeoutError("SSL shutdown timed out").
/// - A peer that closes the TCP connection without close_notify is seen as
///   EOF, as CPython's sslproto does.
/// - Misuse: ValueError for a server without a context ("Server side SSL
///   needs a valid SSLContext"), for `check_hostname` without a host name
///   ("check_hostname requires server_hostname"), for `server_hostname` or a
///   TLS timeout without `ssl`, for non-positive timeouts; TypeError for
///   `load_verify_locations()` with no argument. A server's non-positive TLS
///   timeout or client-side context is a ValueError from start_server /
///   create_server (CPython raises it for each connection, where it is lost).
///
/// Flow control through the TLS layer is CPython's: the application's
/// transport pauses its protocol when the TLS layer holds more than 512 KiB of
/// unsent data (its write buffer limits), the TLS layer stops reading the TCP
/// transport when more than 256 KiB of undecrypted data wait while the
/// application has paused reading, and the TCP transport's own flow control
/// holds encrypted data back.
///
/// Thread safety: an SSLContext may be shared by connections on one loop and
/// configured before use; connections are used on their loop's thread only.
#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "asyncio/exceptions.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX; <openssl/ssl.h> stays out of public headers
struct ssl_st;      // OpenSSL's SSL

namespace asyncio::ssl {

// ---- errors -------------------------------------------------------------------
//
// | Python                         | C++                                               |
// |--------------------------------|---------------------------------------------------|
// | `ssl.SSLError` (OSError)       | `asyncio::ssl::SSLError : asyncio::OSError`       |
// | `ssl.SSLCertVerificationError` | `asyncio::ssl::SSLCertVerificationError : SSLError` |
//
// Python's SSLCertVerificationError is also a ValueError; in C++ it is not
// (a second std::exception base would make `catch (const std::exception&)`
// ambiguous, and miss it): catch it as SSLError or OSError.

/// An error from the TLS layer (`ssl.SSLError`). `what()` is Python's
/// `str(exc)`: `[SSL: WRONG_VERSION_NUMBER] wrong version number`.
/// `errnum()` is Python's `exc.errno` (OpenSSL's SSL_get_error code, 1 for
/// SSL_ERROR_SSL); `library()` and `reason()` are `exc.library` ("SSL") and
/// `exc.reason` ("WRONG_VERSION_NUMBER"), empty when OpenSSL gave none.
class SSLError : public OSError {
 public:
  SSLError(int errnum, const std::string& message, std::string library = {}, std::string reason = {})
      : OSError(message), errnum_(errnum), library_(std::move(library)), reason_(std::move(reason)) {}
  int errnum() const noexcept { return errnum_; }
  const std::string& library() const noexcept { return library_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  int errnum_;
  std::string library_;
  std::string reason_;
};

/// The peer's certificate was refused (`ssl.SSLCertVerificationError`):
/// `verify_code()` is X509's error code (18 for a self-signed certificate, 62
/// for a host name mismatch), `verify_message()` its text ("self-signed
/// certificate", "Hostname mismatch, certificate is not valid for 'x'.").
class SSLCertVerificationError : public SSLError {
 public:
  SSLCertVerificationError(int errnum, const std::string& message, std::string library, std::string reason,
                           long verify_code, std::string verify_message)
      : SSLError(errnum, message, std::move(library), std::move(reason)),
        verify_code_(verify_code),
        verify_message_(std::move(verify_message)) {}
  long verify_code() const noexcept { return verify_code_; }
  const std::string& verify_message() const noexcept { return verify_message_; }

 private:
  long verify_code_;
  std::string verify_message_;
};

// ---- contexts -----------------------------------------------------------------

/// `ssl.Purpose`: what a default context is for. SERVER_AUTH makes a client's
/// context (it authenticates servers), CLIENT_AUTH a server's.
enum class Purpose { SERVER_AUTH, CLIENT_AUTH };

/// `ssl.VerifyMode`.
enum VerifyMode { CERT_NONE = 0, CERT_OPTIONAL = 1, CERT_REQUIRED = 2 };

/// `ssl.PROTOCOL_TLS_CLIENT` / `ssl.PROTOCOL_TLS_SERVER` (TLS 1.2 and 1.3).
enum SSLMethod { PROTOCOL_TLS_CLIENT = 16, PROTOCOL_TLS_SERVER = 17 };

/// Settings and certificates shared by TLS connections (`ssl.SSLContext`).
/// Held by `std::shared_ptr` (Python passes the one object around); each
/// connection keeps its context alive.
///
/// A client context starts with `check_hostname` true and CERT_REQUIRED; a
/// server context with `check_hostname` false and CERT_NONE (Python's rules,
/// also for the setters: CERT_NONE while check_hostname is on is a ValueError;
/// turning check_hostname on turns CERT_NONE into CERT_REQUIRED).
class SSLContext : public std::enable_shared_from_this<SSLContext> {
 public:
  explicit SSLContext(SSLMethod protocol);
  ~SSLContext();
  SSLContext(const SSLContext&) = delete;
  SSLContext& operator=(const SSLContext&) = delete;

  SSLMethod protocol() const noexcept { return protocol_; }
  /// Loads a certificate chain (PEM) and its private key (`keyfile` empty: in
  /// `certfile`). FileNotFoundError when a file is missing; SSLError when it is
  /// not PEM or the key does not match ("[X509: KEY_VALUES_MISMATCH] ...").
  void load_cert_chain(const std::string& certfile, const std::string& keyfile = {},
                       const std::optional<std::string>& password = std::nullopt);
  /// CA certificates to verify peers with: a PEM file, a hashed directory,
  /// and/or PEM text. TypeError("cafile, capath and cadata cannot be all
  /// omitted") when all are empty.
  void load_verify_locations(const std::string& cafile = {}, const std::string& capath = {},
                             const std::string& cadata = {});
  /// The system's CA store (`set_default_verify_paths`).
  void set_default_verify_paths();
  /// `load_default_certs(purpose)`: the system store.
  void load_default_certs(Purpose purpose = Purpose::SERVER_AUTH);
  bool check_hostname() const noexcept { return check_hostname_; }
  void set_check_hostname(bool on);
  VerifyMode verify_mode() const noexcept { return verify_mode_; }
  void set_verify_mode(VerifyMode mode);
  /// ALPN protocols in order of preference (`set_alpn_protocols(["h2", "http/1.1"])`).
  /// ValueError for an empty or over-long (255 bytes) name.
  void set_alpn_protocols(const std::vector<std::string>& protocols);
  /// OpenSSL cipher list (TLS 1.2); SSLError "No cipher can be selected." when none matches.
  void set_ciphers(const std::string& ciphers);

  /// OpenSSL's SSL_CTX, for settings this class does not wrap.
  ssl_ctx_st* native_handle() const noexcept { return ctx_; }
  /// `<ssl.SSLContext PROTOCOL_TLS_CLIENT verify_mode=CERT_REQUIRED check_hostname=True>`.
  friend std::ostream& operator<<(std::ostream& os, const SSLContext& c);

 private:
  ssl_ctx_st* ctx_;
  SSLMethod protocol_;
  bool check_hostname_;
  VerifyMode verify_mode_;
  std::string alpn_;  // wire format, for the server's selection callback
};

/// `ssl.create_default_context(purpose, cafile, capath, cadata)`: for
/// SERVER_AUTH a client context that verifies servers against the given CAs or,
/// when none is given, the system store; for CLIENT_AUTH a server context.
std::shared_ptr<SSLContext> create_default_context(Purpose purpose = Purpose::SERVER_AUTH,
                                                   const std::string& cafile = {}, const std::string& capath = {},
                                                   const std::string& cadata = {});

// ---- what a TLS connection reports --------------------------------------------

/// `SSLObject.cipher()`: (name, protocol version, secret bits), printed as
/// Python's tuple `('TLS_AES_256_GCM_SHA384', 'TLSv1.3', 256)`.
struct CipherInfo {
  std::string name;
  std::string protocol;
  int secret_bits = 0;
  friend bool operator==(const CipherInfo&, const CipherInfo&) = default;
  friend std::ostream& operator<<(std::ostream& os, const CipherInfo& c);
};

/// `SSLObject.getpeercert()`: Python's dict of the peer's certificate. Empty
/// (Python's `{}`) when it was not verified (CERT_NONE). Prints as the dict.
struct PeerCertificate {
  /// One relative distinguished name: (('commonName', 'localhost'),).
  using RDN = std::vector<std::pair<std::string, std::string>>;
  std::vector<RDN> subject;
  std::vector<RDN> issuer;
  int version = 0;
  std::string serialNumber;  ///< upper-case hex
  std::string notBefore;     ///< "Dec  1 03:25:07 2026 GMT"
  std::string notAfter;
  /// (('DNS', 'localhost'), ('IP Address', '127.0.0.1')).
  std::vector<std::pair<std::string, std::string>> subjectAltName;
  bool empty() const noexcept { return version == 0; }
  /// The first commonName of the subject, "" when none.
  std::string common_name() const;
  friend std::ostream& operator<<(std::ostream& os, const PeerCertificate& c);
};

/// One TLS connection's state (`ssl.SSLObject`), what
/// `get_extra_info("ssl_object")` gives. Valid as long as it is held, even after
/// the connection is closed.
class SSLObject {
 public:
  SSLObject(std::shared_ptr<SSLContext> context, bool server_side, std::string server_hostname);
  ~SSLObject();
  SSLObject(const SSLObject&) = delete;
  SSLObject& operator=(const SSLObject&) = delete;

  bool server_side() const noexcept { return server_side_; }
  /// The host name checked and sent (SNI); empty on a server (Python's None).
  const std::string& server_hostname() const noexcept { return server_hostname_; }
  const std::shared_ptr<SSLContext>& context() const noexcept { return context_; }
  /// "TLSv1.3"; empty before the handshake (Python's None).
  std::string version() const;
  /// nullopt before the handshake.
  std::optional<CipherInfo> cipher() const;
  /// The peer's certificate (see PeerCertificate); nullopt when it sent none.
  /// ValueError("handshake not done yet") before the handshake.
  std::optional<PeerCertificate> getpeercert() const;
  /// `getpeercert(binary_form=True)`: DER bytes, empty when none.
  std::string getpeercert_der() const;
  /// The protocol ALPN agreed on; empty when none (Python's None).
  std::string selected_alpn_protocol() const;
  /// OpenSSL's SSL.
  ssl_st* native_handle() const noexcept { return ssl_; }
  friend std::ostream& operator<<(std::ostream& os, const SSLObject& o);

 private:
  std::shared_ptr<SSLContext> context_;
  ssl_st* ssl_;
  bool server_side_;
  std::string server_hostname_;
};

/// asyncio's defaults: `constants.SSL_HANDSHAKE_TIMEOUT` and `SSL_SHUTDOWN_TIMEOUT`.
inline constexpr std::chrono::duration<double> default_handshake_timeout{60.0};
inline constexpr std::chrono::duration<double> default_shutdown_timeout{30.0};

}  // namespace asyncio::ssl
