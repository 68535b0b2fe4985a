// ClientResponse: content type, charset and text decoding (aiohttp's
// client_reqrep.ClientResponse).
#include <iconv.h>

#include <cerrno>
#include <cstdio>
#include <initializer_list>

#include "asyncio/http/client.hpp"

namespace asyncio::http {
namespace {

std::string strip(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string byte_hex(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", b);
  return buf;
}

[[noreturn]] void decode_error(const std::string& codec, const std::string& body, std::size_t pos, const char* why) {
  throw UnicodeDecodeError("'" + codec + "' codec can't decode byte " +
                           byte_hex(static_cast<unsigned char>(body[pos])) + " in position " + std::to_string(pos) +
                           ": " + why);
}

/// Python's strict UTF-8 decoder: no overlong forms, no surrogates, nothing
/// above U+10FFFF (messages as Python's).
void check_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the first continuation byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      decode_error("utf-8", s, i, "invalid start byte");
    }
    for (std::size_t k = 1; k < len; ++k) {
      if (i + k >= n) decode_error("utf-8", s, i, "unexpected end of data");
      unsigned char cc = p[i + k];
      bool ok = k == 1 ? cc >= lo && cc <= hi : cc >= 0x80 && cc <= 0xBF;
      if (!ok) decode_error("utf-8", s, i, "invalid continuation byte");
    }
    i += len;
  }
}

bool is_utf8_name(const std::string& charset) {
  std::string c = ascii_lower(charset);
  return c == "utf-8" || c == "utf8" || c == "utf_8" || c == "u8";
}

/// Decodes `body` from `charset` to UTF-8 with iconv; nullopt when iconv does
/// not know the charset.
std::optional<std::string> iconv_decode(const std::string& body, const std::string& charset) {
  // Python's codec names are looser than iconv's ("latin-1", "utf_16"):
  // try the name, then with '_' as '-', then without either.
  std::string dashed = charset, bare;
  for (char& c : dashed)
    if (c == '_') c = '-';
  for (char c : charset)
    if (c != '-' && c != '_') bare += c;
  iconv_t cd = reinterpret_cast<iconv_t>(-1);
  for (const std::string* name : std::initializer_list<const std::string*>{&charset, &dashed, &bare}) {
    if ((cd = iconv_open("UTF-8", name->c_str())) != reinterpret_cast<iconv_t>(-1)) break;
  }
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string out(body.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(body.data());
  std::size_t in_left = body.size();
  char* o = out.data();
  std::size_t out_left = out.size();
  std::size_t rc = iconv(cd, &in, &in_left, &o, &out_left);
  int err = errno;
  iconv_close(cd);
  if (rc == static_cast<std::size_t>(-1)) {
    std::size_t pos = body.size() - in_left;
    decode_error(ascii_lower(charset), body, pos, err == EINVAL ? "unexpected end of data" : "invalid start byte");
  }
  out.resize(out.size() - out_left);
  return out;
}

}  // namespace

std::size_t len(std::string_view utf8) noexcept {
  std::size_t n = 0;
  for (char c : utf8)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

std::string ClientResponse::content_type() const {
  auto raw = headers.get("Content-Type");
  if (!raw) return "application/octet-stream";
  std::string type = ascii_lower(strip(std::string_view(*raw).substr(0, raw->find(';'))));
  // email.message.get_content_type(): a value without a '/' is text/plain.
  return type.find('/') == std::string::npos ? "text/plain" : type;
}

std::optional<std::string> ClientResponse::charset() const {
  auto raw = headers.get("Content-Type");
  if (!raw) return std::nullopt;
  std::string_view rest(*raw);
  while (true) {
    auto semi = rest.find(';');
    if (semi == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(semi + 1);
    std::string_view param = rest.substr(0, rest.find(';'));
    auto eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (ascii_lower(strip(param.substr(0, eq))) != "charset") continue;
    std::string value = strip(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return value;
  }
}

void ClientResponse::raise_for_status() const {
  if (status >= 400) throw ClientResponseError(status, reason, url);
}

Coro<std::string> ClientResponse::read() {
  if (payload_error_) std::rethrow_exception(payload_error_);
  co_return body_;
}

Coro<std::string> ClientResponse::text(std::string encoding) {
  if (payload_error_) std::rethrow_exception(payload_error_);
  bool explicit_encoding = !encoding.empty();
  if (!explicit_encoding) encoding = charset().value_or("utf-8");
  if (is_utf8_name(encoding)) {
    check_utf8(body_);
    co_return body_;
  }
  if (auto decoded = iconv_decode(body_, encoding)) co_return std::move(*decoded);
  if (explicit_encoding) throw UnicodeDecodeError("unknown encoding: " + encoding);  // Python's LookupError
  check_utf8(body_);  // an unknown charset in the response: UTF-8 (aiohttp would guess)
  co_return body_;
}

std::ostream& operator<<(std::ostream& os, const ClientResponse& r) {
  return os << "<ClientResponse(" << r.url << ") [" << r.status << " " << r.reason << "]>";
}

}  // namespace asyncio::http
