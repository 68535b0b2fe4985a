#pragma once
/// \file http/status.hpp
/// HTTP status codes' reason phrases (Python's `http.HTTPStatus(code).phrase`),
/// shared by the client and the server.
#include <string_view>

namespace asyncio::http {

/// The standard reason phrase of `status` ("Not Found"); "" for a code it does not know.
std::string_view reason_phrase(int status) noexcept;

}  // namespace asyncio::http
