// SessionOptions::ssl on curl (OpenSSL backend): curl builds its own SSL_CTX
// per connection and hands it to CURLOPT_SSL_CTX_FUNCTION before the
// handshake; there it gets the asyncio context's CA store (shared, reference
// counted) and client certificate. curl checks the verification result and the
// host name itself, as CURLOPT_SSL_VERIFYPEER / VERIFYHOST say.
#include "http/client_ssl.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "asyncio/ssl.hpp"

namespace asyncio::http::detail {
namespace {

CURLcode on_ssl_ctx(CURL*, void* curl_ctx, void* user) {
  auto* ours = static_cast<ssl::SSLContext*>(user)->native_handle();
  auto* theirs = static_cast<SSL_CTX*>(curl_ctx);
  // The context's trusted CAs replace curl's default bundle, as a Python
  // context made with cafile= trusts only those.
  SSL_CTX_set1_cert_store(theirs, SSL_CTX_get_cert_store(ours));
  if (X509* cert = SSL_CTX_get0_certificate(ours)) {
    if (SSL_CTX_use_certificate(theirs, cert) != 1) return CURLE_SSL_CERTPROBLEM;
    EVP_PKEY* key = SSL_CTX_get0_privatekey(ours);
    if (key == nullptr || SSL_CTX_use_PrivateKey(theirs, key) != 1) return CURLE_SSL_CERTPROBLEM;
  }
  return CURLE_OK;
}

}  // namespace

void apply_ssl_context(CURL* easy, const std::shared_ptr<ssl::SSLContext>& context) {
  if (!context) return;
  curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, &on_ssl_ctx);
  curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, context.get());
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, context->verify_mode() == ssl::CERT_NONE ? 0L : 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, context->check_hostname() ? 2L : 0L);
}

}  // namespace asyncio::http::detail
