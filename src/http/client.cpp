// ClientSession: requests on the session's curl multi handle (aiohttp's
// client.py). The curl/libuv glue is in curl_multi.cpp; the response's
// decoding in client_response.cpp.
#include "asyncio/http/client.hpp"
#include "asyncio/repr.hpp"
#include "asyncio/http/status.hpp"

#include <curl/curl.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>

#include "asyncio/events.hpp"
#include "asyncio/locks.hpp"
#include "asyncio/timeouts.hpp"
#include "asyncio/http/url.hpp"
#include "http/client_ssl.hpp"
#include "http/curl_multi.hpp"
#include "http/heap.hpp"

namespace asyncio::http {

std::string url_suffix(const std::string& url) { return ", url=URL(" + asyncio::detail::py_str_repr(url) + ")"; }

ClientResponseError::ClientResponseError(int status, std::string message, std::string url)
    : ClientError(std::to_string(status) + ", message=" + asyncio::detail::py_str_repr(message) + url_suffix(url), url),
      status_(status),
      message_(std::move(message)) {}

ClientConnectorCertificateError::ClientConnectorCertificateError(std::string url, std::string host, int port,
                                                                 ssl::SSLCertVerificationError error)
    : ClientSSLError("Cannot connect to host " + host + ":" + std::to_string(port) +
                         " ssl:True [SSLCertVerificationError: (" + std::to_string(error.errnum()) + ", " +
                         asyncio::detail::py_str_repr(error.what()) + ")]" + url_suffix(url),
                     url, host, port),
      error_(std::move(error)) {}

namespace detail {

/// How a request fills its response's body.
struct ResponseBody {
  static std::string& body(ClientResponse& r) noexcept { return r.body_; }
  static void fail(ClientResponse& r, std::exception_ptr e) noexcept { r.payload_error_ = std::move(e); }
};

/// A curl header list (curl_slist), freed with its owner.
class HeaderList {
 public:
  HeaderList() = default;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList() { curl_slist_free_all(list_); }

  /// `headers` as curl sends them, with the client's defaults: a User-Agent,
  /// and no `Expect: 100-continue` round trip (as aiohttp).
  explicit HeaderList(const CIMultiDict& headers) {
    auto add = [this](const std::string& line) {
      curl_slist* next = curl_slist_append(list_, line.c_str());
      if (next == nullptr) throw std::bad_alloc();
      list_ = next;
    };
    for (const auto& [k, v] : headers) add(v.empty() ? k + ":" : k + ": " + v);  // "Name:" removes curl's own header
    if (!headers.contains("User-Agent")) add("User-Agent: asyncio-cpp/0.1 libcurl/" LIBCURL_VERSION);
    if (!headers.contains("Expect")) add("Expect:");
  }
  curl_slist* get() const noexcept { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

/// What a session and its requests share; requests hold a reference, so a
/// request that outlives its ClientSession object still finds it (closed).
struct SessionState {
  SessionState(EventLoop& loop, SessionOptions o)
      : options(std::move(o)),
        default_headers(options.headers),
        slots(static_cast<std::ptrdiff_t>(options.limit)),
        multi(std::in_place, loop, static_cast<long>(options.limit), static_cast<long>(options.limit_per_host),
              [ssl = options.ssl, proxy_env = has_proxy_env()](CURL* e) { set_session_options(e, ssl, proxy_env); }) {}
  /// The options all of the session's requests share, set once per easy handle.
  static void set_session_options(CURL* e, const std::shared_ptr<ssl::SSLContext>& ssl, bool proxy_env);
  /// Whether a variable names a proxy for http or https URLs (the ones curl
  /// reads: http_proxy, https_proxy or HTTPS_PROXY, all_proxy or ALL_PROXY),
  /// read when the session is made.
  static bool has_proxy_env() noexcept {
    for (const char* name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
      if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return true;
    return false;
  }
  SessionOptions options;
  HeaderList default_headers;  // sent by requests that add no headers of their own (built once)
  Semaphore slots;  // one permit per request in flight, when options.limit > 0
  std::size_t waiting = 0;
  /// The body size of the session's last response (see Request::buffer_size);
  /// a session starts as if it were small.
  std::size_t last_body_size = 0;
  std::optional<CurlMulti> multi;  // empty once closed
};

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// A URL as curl reads it (a CURLU handle), parsed once: checked here, then
/// given to curl as is (CURLOPT_CURLU), so that curl does not parse it again.
class Target {
 public:
  explicit Target(CURLU* url) noexcept : url_(url) {}
  Target(Target&& other) noexcept : url_(std::exchange(other.url_, nullptr)) {}
  Target& operator=(Target&&) = delete;
  ~Target() { curl_url_cleanup(url_); }

  CURLU* get() const noexcept { return url_; }
  /// The URL's part `what` as curl reads it ("" when absent).
  std::string part(CURLUPart what, unsigned flags = 0) const {
    char* value = nullptr;
    if (curl_url_get(url_, what, &value, flags) != CURLUE_OK) return {};
    std::string result = value;
    curl_free(value);
    return result;
  }
  /// The host and port, for error messages (off the hot path).
  std::string host() const { return part(CURLUPART_HOST); }
  int port() const { return std::atoi(part(CURLUPART_PORT, CURLU_DEFAULT_PORT).c_str()); }

 private:
  CURLU* url_;
};

/// InvalidURL unless `url` is an absolute http(s) URL with a host (aiohttp
/// checks the same with yarl before connecting).
Target check_url(const std::string& url) {
  // As written (uriparser, strict RFC 3986), then as curl reads it.
  try {
    ParseResult p = urlparse(url);
    if ((p.scheme != "http" && p.scheme != "https") || !p.hostname()) throw InvalidURL(url);
  } catch (const ValueError&) {
    throw InvalidURL(url);
  }
  CURLU* u = curl_url();
  if (u == nullptr) throw std::bad_alloc();
  Target target(u);
  // curl refuses what it cannot read (without CURLU_NON_SUPPORT_SCHEME, any
  // scheme it does not speak; an http URL without a host): the scheme and host
  // checked above are then the ones curl reads.
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) throw InvalidURL(url);
  return target;
}

std::string trim(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

/// One request in curl: the easy handle's options, the header and body
/// callbacks, and the mapping of curl's result to a response or an error.
class Request final : public Transfer {
 public:
  Request(SessionState& state, const std::string& method, std::string url, Target target,
          const RequestOptions& options)
      : Transfer(*state.multi), state_(state), target_(std::move(target)), done_(get_running_loop().create_future<void>()) {
    response_.method = method;
    response_.url = std::move(url);
    // The per-transfer options (Transfer::set_other_options): set every time.
    CURL* e = easy();
    curl_easy_setopt(e, CURLOPT_CURLU, target_.get());  // the URL, parsed once (check_url)
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, options.allow_redirects ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(options.max_redirects));
    curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, buffer_size(state.last_body_size));
    if (options.headers.empty()) {
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, state.default_headers.get());
    } else {
      CIMultiDict headers = options.headers;
      headers.merge_missing(state.options.headers);
      header_list_.emplace(headers);
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, header_list_->get());
    }
    // Any other: the handle is reset when the request goes.
    if (method == "HEAD") {
      set_other_options();
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (method != "GET") {
      set_other_options();
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    if (options.data) {
      set_other_options();
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(options.data->size()));
      curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, options.data->c_str());
      if (method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
  }
  ~Request() override {
    stop();  // out of curl before the header list goes
  }

  /// The options all of a session's requests share (EasyPool's setup).
  static void set_shared_options(CURL* e, const std::shared_ptr<ssl::SSLContext>& ssl, bool proxy_env) noexcept {
    if (!proxy_env) {  // curl would look for them in each request: tell it there are none
      curl_easy_setopt(e, CURLOPT_PROXY, "");
      curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    }
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");  // aiohttp's, decoded by curl
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Request::on_header);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Request::on_body);
    apply_ssl_context(e, ssl);  // client_ssl.cpp
  }

  Future<void>& done() noexcept { return done_; }

  /// The response, or the error the transfer ended with.
  ClientResponse take_response() {
    const std::string& url = response_.url;
    if (session_closed_) throw ClientConnectionError("Session is closed" + url_suffix(url), url);
    std::string curl_message = *error_message() != '\0' ? error_message() : curl_easy_strerror(code_);
    if (code_ == CURLE_OK) {
      fill_final_url();
      return std::move(response_);
    }
    switch (code_) {
      case CURLE_PARTIAL_FILE:
      case CURLE_RECV_ERROR:
      case CURLE_BAD_CONTENT_ENCODING:
        if (headers_complete_) {  // the body was cut short: read() tells (as aiohttp)
          fill_final_url();
          ResponseBody::fail(response_, std::make_exception_ptr(ClientPayloadError(
                                            "Response payload is not completed" + url_suffix(url), url)));
          return std::move(response_);
        }
        if (code_ == CURLE_RECV_ERROR) throw ClientOSError(curl_message + url_suffix(url), url, os_errno());
        throw ClientPayloadError("Response payload is not completed" + url_suffix(url), url);
      case CURLE_PEER_FAILED_VERIFICATION:
        throw ClientConnectorCertificateError(url, target_.host(), target_.port(), certificate_error(curl_message));
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_COULDNT_CONNECT:
      case CURLE_SSL_CONNECT_ERROR: {
        int err = os_errno();
        std::string why = code_ == CURLE_COULDNT_CONNECT && err != 0 ? std::strerror(err) : curl_message;
        std::string host = target_.host();
        int port = target_.port();
        std::string what =
            "Cannot connect to host " + host + ":" + std::to_string(port) + " ssl:default [" + why + "]" + url_suffix(url);
        if (code_ == CURLE_SSL_CONNECT_ERROR) throw ClientConnectorSSLError(what, url, host, port, err);
        throw ClientConnectorError(what, url, host, port, err);
      }
      case CURLE_GOT_NOTHING:
        throw ServerDisconnectedError("Server disconnected" + url_suffix(url), url);
      case CURLE_SEND_ERROR:
        throw ClientOSError(curl_message + url_suffix(url), url, os_errno());
      case CURLE_TOO_MANY_REDIRECTS:
        throw TooManyRedirects(status_code(), curl_message, url);
      case CURLE_WEIRD_SERVER_REPLY:
      case CURLE_UNSUPPORTED_PROTOCOL:  // the URL was checked: this is an HTTP/0.9 (status-less) reply
        throw ClientResponseError(400, curl_message, url);
      case CURLE_OPERATION_TIMEDOUT:
        throw TimeoutError();
      case CURLE_URL_MALFORMAT:
        throw InvalidURL(url);
      default:
        throw ClientError(curl_message + url_suffix(url), url);
    }
  }

 private:
  /// curl's receive buffer (CURLOPT_BUFFERSIZE): its smallest, 1 KiB, after
  /// a small body, else its default, 16 KiB. curl allocates it for each
  /// transfer: 1 KiB comes from malloc's per-thread cache, while 16 KiB takes
  /// malloc's slow path (and first touches of new pages), a tenth of the
  /// client's CPU time for small responses. A large body after small ones
  /// (or first: a session starts small) costs more recv calls (one per KiB)
  /// for that response, and the requests started before it ended.
  static long buffer_size(std::size_t last_body_size) noexcept {
    return last_body_size < 1024 ? 1024L : CURL_MAX_WRITE_SIZE;
  }

  void finished(CURLcode code, bool session_closed) noexcept override {
    if (code == CURLE_OK && !session_closed) state_.last_body_size = ResponseBody::body(response_).size();
    code_ = code;
    session_closed_ = session_closed;
    if (!done_.done()) done_.set_result();
  }

  /// The verification error behind CURLE_PEER_FAILED_VERIFICATION, as
  /// Python's ssl module words it: OpenSSL's X509 verify result, or (0) the
  /// host name check curl makes itself, in curl's words.
  ssl::SSLCertVerificationError certificate_error(const std::string& curl_message) const {
    long verify = 0;
    curl_easy_getinfo(easy(), CURLINFO_SSL_VERIFYRESULT, &verify);
    std::string verify_message = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : curl_message;
    return ssl::SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: " + verify_message, "SSL",
        "CERTIFICATE_VERIFY_FAILED", verify, verify_message);
  }
  int os_errno() const noexcept {
    long err = 0;
    curl_easy_getinfo(easy(), CURLINFO_OS_ERRNO, &err);
    return static_cast<int>(err);
  }
  int status_code() const noexcept {
    long status = 0;
    curl_easy_getinfo(easy(), CURLINFO_RESPONSE_CODE, &status);
    return static_cast<int>(status);
  }
  void fill_final_url() {
    char* effective = nullptr;
    if (curl_easy_getinfo(easy(), CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective != nullptr)
      response_.url = effective;
    if (response_.status == 0) response_.status = status_code();
  }

  // A header block per response (several with redirects or 1xx): the last one wins.
  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self_p) {
    auto* self = static_cast<Request*>(self_p);
    std::string_view line(data, size * n);
    try {
      self->header_line(line);
    } catch (...) {
      return 0;  // out of memory: curl fails the transfer
    }
    return size * n;
  }
  void header_line(std::string_view line) {
    ClientResponse& r = response_;
    if (line.substr(0, 5) == "HTTP/") {
      r.headers.clear();
      ResponseBody::body(r).clear();
      headers_complete_ = false;
      auto sp = line.find(' ');
      std::string_view rest = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
      r.status = std::atoi(std::string(rest.substr(0, 3)).c_str());
      r.reason = rest.size() > 4 ? trim(rest.substr(4)) : std::string();
      if (r.reason.empty()) r.reason = std::string(http::reason_phrase(r.status));
    } else if (line == "\r\n" || line == "\n") {
      headers_complete_ = true;
    } else if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (!r.headers.empty()) {  // obsolete line folding: continues the last value
        auto last = *(r.headers.end() - 1);
        r.headers.erase(last.first);
        r.headers.add(last.first, last.second + " " + trim(line));
      }
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
      r.headers.add(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
  }
  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* self_p) {
    auto* self = static_cast<Request*>(self_p);
    try {
      ResponseBody::body(self->response_).append(data, size * n);
    } catch (...) {
      return 0;
    }
    return size * n;
  }

  SessionState& state_;  // outlives the request (perform holds it)
  Target target_;
  Future<void> done_;
  ClientResponse response_;
  std::optional<HeaderList> header_list_;  // this request's headers, when it sets some
  CURLcode code_ = CURLE_OK;
  bool session_closed_ = false;
  bool headers_complete_ = false;
};

/// Counts a request waiting for a slot (ClientSession::waiting()).
struct WaitingCount {
  std::size_t& n;
  explicit WaitingCount(std::size_t& c) : n(c) { ++n; }
  ~WaitingCount() { --n; }
};

/// The request itself, inside the total timeout.
Coro<ClientResponse> perform(std::shared_ptr<SessionState> state, std::string method, std::string url, Target target,
                             RequestOptions options) {
  LockGuard<Semaphore> slot;
  if (state->options.limit > 0 && state->multi) {
    WaitingCount counted(state->waiting);
    slot = co_await state->slots;  // FIFO, as aiohttp's connector queues for a connection
  }
  if (!state->multi) throw RuntimeError("Session is closed");
  Request request(*state, method, std::move(url), std::move(target), options);
  request.start(*state->multi);
  co_await request.done();  // cancellation: ~Request removes the transfer from curl
  co_return request.take_response();
}

}  // namespace

void SessionState::set_session_options(CURL* e, const std::shared_ptr<ssl::SSLContext>& ssl, bool proxy_env) {
  Request::set_shared_options(e, ssl, proxy_env);
}

}  // namespace detail

// ---- ClientSession ---------------------------------------------------------------

ClientSession::ClientSession(SessionOptions options) {
  detail::global_init();
  if (options.huge_page_heap) detail::reserve_heap(options.limit);  // a session of many connections: its heap on huge pages
  state_ = std::make_shared<detail::SessionState>(get_running_loop(), std::move(options));
}
ClientSession::ClientSession(ClientSession&&) noexcept = default;
ClientSession& ClientSession::operator=(ClientSession&&) noexcept = default;
ClientSession::~ClientSession() {
  if (state_) state_->multi.reset();
}

Coro<ClientResponse> ClientSession::request(std::string method, std::string url, RequestOptions options) {
  std::shared_ptr<detail::SessionState> state = state_;
  if (!state || !state->multi) throw RuntimeError("Session is closed");
  detail::Target target = detail::check_url(url);
  std::optional<std::chrono::duration<double>> total =
      options.timeout ? options.timeout->total : state->options.timeout.total;
  // Made before the one co_await (not inside it), so that the arguments'
  // temporaries and the result are not kept in this coroutine's frame twice:
  // it stays small enough for the frame pool.
  Coro<ClientResponse> body =
      detail::perform(std::move(state), std::move(method), std::move(url), std::move(target), std::move(options));
  if (total) body = asyncio::timeout(*total, std::move(body));
  co_return co_await std::move(body);
}

Coro<ClientResponse> ClientSession::get(std::string url, RequestOptions options) {
  return request("GET", std::move(url), std::move(options));
}

Coro<ClientResponse> ClientSession::post(std::string url, RequestOptions options) {
  return request("POST", std::move(url), std::move(options));
}

Coro<void> ClientSession::close() {
  if (state_) state_->multi.reset();
  co_return;
}

bool ClientSession::closed() const noexcept { return !state_ || !state_->multi; }

std::size_t ClientSession::in_flight() const noexcept {
  return state_ && state_->multi ? state_->multi->running() : 0;
}

std::size_t ClientSession::waiting() const noexcept { return state_ ? state_->waiting : 0; }

std::ostream& operator<<(std::ostream& os, const ClientSession& s) {
  if (s.closed()) return os << "<ClientSession closed>";
  return os << "<ClientSession in_flight=" << s.in_flight() << " waiting=" << s.waiting()
            << " limit=" << s.state_->options.limit << ">";
}

}  // namespace asyncio::http
