#pragma once
// The HTTP client's TLS settings from an asyncio SSLContext (client.hpp, "TLS").
#include <curl/curl.h>

#include <memory>

namespace asyncio::ssl {
class SSLContext;
}  // namespace asyncio::ssl

namespace asyncio::http::detail {

/// Makes `easy` verify https peers as `context` says (nothing when null): its
/// CA store, verify_mode, check_hostname and client certificate. The context
/// must outlive the transfer (the session's options hold it).
void apply_ssl_context(CURL* easy, const std::shared_ptr<ssl::SSLContext>& context);

}  // namespace asyncio::http::detail
