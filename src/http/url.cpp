// urlparse / urljoin on liburiparser (urllib.parse).
#include "asyncio/http/url.hpp"
#include "asyncio/repr.hpp"

#include <uriparser/Uri.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "asyncio/exceptions.hpp"
#include "asyncio/http/multidict.hpp"

namespace asyncio::http {
namespace {

std::string text(const UriTextRangeA& r) {
  return r.first != nullptr ? std::string(r.first, r.afterLast) : std::string();
}

/// A parsed URI reference; owns the uriparser structure.
class Uri {
 public:
  explicit Uri(std::string_view s) : text_(s) {
    const char* error_pos = nullptr;
    if (uriParseSingleUriExA(&uri_, text_.data(), text_.data() + text_.size(), &error_pos) != URI_SUCCESS) {
      uriFreeUriMembersA(&uri_);
      throw ValueError("Invalid URL: " + detail::py_str_repr(text_));
    }
  }
  Uri(const Uri&) = delete;
  Uri& operator=(const Uri&) = delete;
  ~Uri() { uriFreeUriMembersA(&uri_); }
  UriUriA* get() noexcept { return &uri_; }
  const UriUriA& operator*() const noexcept { return uri_; }
  const std::string& str() const noexcept { return text_; }
  bool has_scheme() const noexcept { return uri_.scheme.first != nullptr; }
  bool has_authority() const noexcept { return uri_.hostText.first != nullptr; }

 private:
  std::string text_;
  UriUriA uri_{};
};

// Python's urllib.parse.uses_relative / uses_netloc (the schemes of the web).
constexpr std::array<std::string_view, 13> kUsesRelative = {
    "", "ftp", "http", "gopher", "nntp", "imap", "wais", "file", "https", "shttp", "mms", "prospero", "rtsp"};
bool uses_relative(const std::string& scheme) {
  return std::find(kUsesRelative.begin(), kUsesRelative.end(), scheme) != kUsesRelative.end() || scheme == "rtspu" ||
         scheme == "sftp" || scheme == "svn" || scheme == "svn+ssh" || scheme == "ws" || scheme == "wss";
}
bool uses_netloc(const std::string& scheme) {
  return uses_relative(scheme) || scheme == "telnet" || scheme == "snews" || scheme == "rsync" || scheme == "nfs" ||
         scheme == "git" || scheme == "git+ssh";
}

}  // namespace

ParseResult urlparse(std::string_view url) {
  Uri uri(url);
  const UriUriA& u = *uri;
  const char* begin = uri.str().data();
  const char* end = begin + uri.str().size();
  ParseResult p;
  const char* path_start = begin;
  if (uri.has_scheme()) {
    p.scheme = ascii_lower(text(u.scheme));
    path_start = u.scheme.afterLast + 1;  // past ':'
  }
  if (uri.has_authority()) {
    const char* netloc_start = path_start + 2;  // past "//"
    // An empty host ("file:///x") may point outside the text: it ends at once.
    bool empty_host = u.hostText.first == u.hostText.afterLast && u.userInfo.first == nullptr;
    const char* pos = empty_host ? netloc_start : u.hostText.afterLast;
    if (pos < end && *pos == ']') ++pos;  // an IP literal's bracket
    if (u.portText.first != nullptr) {
      pos = u.portText.afterLast;
    } else if (pos < end && *pos == ':') {
      ++pos;  // an empty port: Python keeps the ':' in netloc
    }
    p.netloc.assign(netloc_start, pos);
    path_start = pos;
  }
  const char* path_end = u.query.first != nullptr ? u.query.first - 1 : u.fragment.first != nullptr ? u.fragment.first - 1 : end;
  p.path.assign(path_start, path_end);
  p.query = text(u.query);
  p.fragment = text(u.fragment);
  // urllib.parse._splitparams: ';' in the last segment starts the params.
  auto slash = p.path.rfind('/');
  auto semi = p.path.find(';', slash == std::string::npos ? 0 : slash);
  if (semi != std::string::npos) {
    p.params = p.path.substr(semi + 1);
    p.path.resize(semi);
  }
  return p;
}

std::string urljoin(std::string_view base, std::string_view url) {
  if (base.empty()) return std::string(url);
  if (url.empty()) return std::string(base);
  Uri b(base);
  Uri r(url);
  std::string base_scheme = ascii_lower(text((*b).scheme));
  std::string scheme = r.has_scheme() ? ascii_lower(text((*r).scheme)) : base_scheme;
  // Python: another scheme, or one without relative URLs, is returned as is.
  if (scheme != base_scheme || !uses_relative(scheme)) return std::string(url);
  // Python: a reference with its own netloc replaces the base's, as written.
  if (r.has_authority() && uses_netloc(scheme)) {
    return r.has_scheme() ? std::string(url) : base_scheme + ":" + std::string(url);
  }
  UriUriA joined{};
  if (uriAddBaseUriExA(&joined, r.get(), b.get(), URI_RESOLVE_IDENTICAL_SCHEME_COMPAT) != URI_SUCCESS) {
    uriFreeUriMembersA(&joined);
    throw ValueError("Cannot join " + detail::py_str_repr(std::string(url)) + " to " +
                     detail::py_str_repr(std::string(base)));
  }
  int chars = 0;
  uriToStringCharsRequiredA(&joined, &chars);
  std::string out(static_cast<std::size_t>(chars) + 1, '\0');
  uriToStringA(out.data(), &joined, chars + 1, nullptr);
  out.resize(static_cast<std::size_t>(chars));
  uriFreeUriMembersA(&joined);
  return out;
}

std::optional<std::string> ParseResult::hostname() const {
  if (netloc.empty()) return std::nullopt;
  std::string host = netloc.substr(netloc.rfind('@') == std::string::npos ? 0 : netloc.rfind('@') + 1);
  if (!host.empty() && host[0] == '[') {
    host = host.substr(1, host.find(']') == std::string::npos ? std::string::npos : host.find(']') - 1);
  } else if (auto colon = host.find(':'); colon != std::string::npos) {
    host.resize(colon);
  }
  if (host.empty()) return std::nullopt;
  return ascii_lower(host);
}

std::optional<int> ParseResult::port() const {
  std::string host = netloc.substr(netloc.rfind('@') == std::string::npos ? 0 : netloc.rfind('@') + 1);
  auto bracket = host.find(']');
  auto colon = host.find(':', bracket == std::string::npos ? 0 : bracket);
  if (colon == std::string::npos || colon + 1 == host.size()) return std::nullopt;
  std::string digits = host.substr(colon + 1);
  int value = -1;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || value < 0 || value > 65535)
    throw ValueError("Port could not be cast to integer value as " + detail::py_str_repr(digits));
  return value;
}

std::string ParseResult::geturl() const {
  // urllib.parse.urlunparse / urlunsplit.
  std::string u = params.empty() ? path : path + ";" + params;
  if (!netloc.empty() || (!scheme.empty() && uses_netloc(scheme) && u.substr(0, 2) != "//")) {
    if (!u.empty() && u[0] != '/') u = "/" + u;
    u = "//" + netloc + u;
  }
  if (!scheme.empty()) u = scheme + ":" + u;
  if (!query.empty()) u += "?" + query;
  if (!fragment.empty()) u += "#" + fragment;
  return u;
}

std::ostream& operator<<(std::ostream& os, const ParseResult& p) {
  using detail::py_str_repr;
  return os << "ParseResult(scheme=" << py_str_repr(p.scheme) << ", netloc=" << py_str_repr(p.netloc)
            << ", path=" << py_str_repr(p.path) << ", params=" << py_str_repr(p.params)
            << ", query=" << py_str_repr(p.query) << ", fragment=" << py_str_repr(p.fragment) << ")";
}

}  // namespace asyncio::http
