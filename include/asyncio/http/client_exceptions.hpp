#pragma once
/// \file http/client_exceptions.hpp
/// The HTTP client's errors (aiohttp's `client_exceptions.py`).
///
/// | aiohttp                         | C++ (namespace asyncio::http)                    | when |
/// |---------------------------------|--------------------------------------------------|------|
/// | `ClientError`                   | `ClientError : std::runtime_error`               | base of all below |
/// | `ClientConnectionError`         | `ClientConnectionError : ClientError`            | a connection-level failure |
/// | `ClientOSError`                 | `ClientOSError : ClientConnectionError`          | an OS error on the socket (`errno()`) |
/// | `ClientConnectorError`          | `ClientConnectorError : ClientOSError`           | connection refused, DNS failure |
/// | `ClientSSLError`                | `ClientSSLError : ClientConnectorError`          | base of the two TLS failures below |
/// | `ClientConnectorSSLError`       | `ClientConnectorSSLError : ClientSSLError`       | the TLS handshake failed |
/// | `ClientConnectorCertificateError` | `ClientConnectorCertificateError : ClientSSLError` | the server's certificate was refused (`certificate_error()`) |
/// | `ServerDisconnectedError`       | `ServerDisconnectedError : ClientConnectionError`| the server closed before answering |
/// | `ClientResponseError`           | `ClientResponseError : ClientError`              | a malformed response (status 400), `raise_for_status()` |
/// | `TooManyRedirects`              | `TooManyRedirects : ClientResponseError`         | more than `max_redirects` redirects |
/// | `ClientPayloadError`            | `ClientPayloadError : ClientError`               | the body was cut short or badly encoded (thrown by read()/text()) |
/// | `InvalidURL` (also a ValueError)| `InvalidURL : ClientError`                       | not an absolute http(s) URL |
/// | `asyncio.TimeoutError`          | `asyncio::TimeoutError`                          | `ClientTimeout::total` passed |
///
/// Every error carries the request's URL (`url()`) and names it in `what()`:
/// aiohttp's text, then `, url=URL('...')` as aiohttp's ClientResponseError
/// prints it (aiohttp leaves the URL out of some; we always put it in):
///
///     Cannot connect to host 127.0.0.1:1 ssl:default [Connection refused], url=URL('http://127.0.0.1:1/')
///     400, message='Expected HTTP/', url=URL('http://127.0.0.1:8080/')
///     Response payload is not completed, url=URL('http://127.0.0.1:8080/big')
///     not a url                                     (InvalidURL: the URL itself, as aiohttp)
///
/// Thread safety: plain values.
#include <stdexcept>
#include <string>

#include "asyncio/ssl.hpp"

namespace asyncio::http {

/// Base of the client's errors (`aiohttp.ClientError`).
class ClientError : public std::runtime_error {
 public:
  ClientError(const std::string& what, std::string url) : std::runtime_error(what), url_(std::move(url)) {}
  /// The URL of the request that failed.
  const std::string& url() const noexcept { return url_; }

 private:
  std::string url_;
};

/// A failure of the connection (`aiohttp.ClientConnectionError`).
class ClientConnectionError : public ClientError {
  using ClientError::ClientError;
};

/// An OS error on the connection (`aiohttp.ClientOSError`); `errno_code()` is
/// the errno when known, else 0.
class ClientOSError : public ClientConnectionError {
 public:
  ClientOSError(const std::string& what, std::string url, int err = 0)
      : ClientConnectionError(what, std::move(url)), errno_(err) {}
  int errno_code() const noexcept { return errno_; }

 private:
  int errno_;
};

/// Could not connect: refused, unreachable, DNS failure, TLS handshake
/// (`aiohttp.ClientConnectorError`). `host()` and `port()` name the target.
class ClientConnectorError : public ClientOSError {
 public:
  ClientConnectorError(const std::string& what, std::string url, std::string host, int port, int err = 0)
      : ClientOSError(what, std::move(url), err), host_(std::move(host)), port_(port) {}
  const std::string& host() const noexcept { return host_; }
  int port() const noexcept { return port_; }

 private:
  std::string host_;
  int port_;
};

/// A TLS failure while connecting (`aiohttp.ClientSSLError`).
class ClientSSLError : public ClientConnectorError {
  using ClientConnectorError::ClientConnectorError;
};

/// The TLS handshake failed (`aiohttp.ClientConnectorSSLError`): the peer
/// speaks no TLS, or no protocol version or cipher is shared.
class ClientConnectorSSLError : public ClientSSLError {
  using ClientSSLError::ClientSSLError;
};

/// The server's certificate was refused (`aiohttp.ClientConnectorCertificateError`):
/// expired, self-signed, from an unknown CA, or for another host.
/// `certificate_error()` is the verification error, as Python's
/// `ssl.SSLCertVerificationError` (`verify_code()` is OpenSSL's X509_V_ERR_*
/// code, 0 when the host name did not match; `verify_message()` its text).
/// `what()` is aiohttp's, then the URL:
///
///     Cannot connect to host 127.0.0.1:8443 ssl:True [SSLCertVerificationError: (1, '[SSL:
///     CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired')], url=URL('...')
class ClientConnectorCertificateError : public ClientSSLError {
 public:
  ClientConnectorCertificateError(std::string url, std::string host, int port, ssl::SSLCertVerificationError error);
  const ssl::SSLCertVerificationError& certificate_error() const noexcept { return error_; }

 private:
  ssl::SSLCertVerificationError error_;
};

/// The server closed the connection without a response
/// (`aiohttp.ServerDisconnectedError`: "Server disconnected").
class ServerDisconnectedError : public ClientConnectionError {
  using ClientConnectionError::ClientConnectionError;
};

/// A bad response (`aiohttp.ClientResponseError`): a malformed status line or
/// headers (status 400, as aiohttp's parser reports them), or
/// `raise_for_status()` on a 4xx/5xx. `what()` is aiohttp's
/// `400, message='...', url=URL('...')`.
class ClientResponseError : public ClientError {
 public:
  ClientResponseError(int status, std::string message, std::string url);
  int status() const noexcept { return status_; }
  /// The message alone (aiohttp's `e.message`).
  const std::string& message() const noexcept { return message_; }

 private:
  int status_;
  std::string message_;
};

/// More redirects than `max_redirects` (`aiohttp.TooManyRedirects`).
class TooManyRedirects : public ClientResponseError {
  using ClientResponseError::ClientResponseError;
};

/// The response body was cut short or could not be decoded
/// (`aiohttp.ClientPayloadError`): "Response payload is not completed".
/// Thrown by `ClientResponse::read()`/`text()`, as aiohttp does; the status
/// and headers stay readable.
class ClientPayloadError : public ClientError {
  using ClientError::ClientError;
};

/// The URL is not an absolute http:// or https:// URL with a host
/// (`aiohttp.InvalidURL`, also a ValueError in Python). `what()` is the URL.
class InvalidURL : public ClientError {
 public:
  explicit InvalidURL(const std::string& url) : ClientError(url, url) {}
};

/// `, url=URL('<url>')`: how every message names its URL.
std::string url_suffix(const std::string& url);

}  // namespace asyncio::http
