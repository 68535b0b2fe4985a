// The HTTP/1.x server protocol (server_protocol.hpp).
#include "http/server_protocol.hpp"

#include <charconv>
#include <ctime>
#include <utility>

#include "asyncio/exceptions.hpp"

namespace asyncio::http::web::detail {

namespace {

/// "Tue, 01 Dec 2026 03:23:27 GMT", recomputed once a second.
std::string_view http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local char buf[40];
  thread_local std::size_t len = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_second = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  }
  return {buf, len};
}

void append_number(std::string& out, std::size_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  (void)ec;  // 24 characters hold any size_t
  out.append(buf, end);
}

HttpProtocol& self_of(http_parser* p) {
  return *static_cast<HttpProtocol*>(p->data);
}

/// Bodies up to this size are copied after the head (one send); larger ones are written on their
/// own.
constexpr std::size_t kCoalesceLimit = 16 * 1024;

}  // namespace

const http_parser_settings HttpProtocol::settings_ = [] {
  http_parser_settings s{};
  s.on_message_begin = &HttpProtocol::on_message_begin;
  s.on_url = &HttpProtocol::on_url;
  s.on_header_field = &HttpProtocol::on_header_field;
  s.on_header_value = &HttpProtocol::on_header_value;
  s.on_headers_complete = &HttpProtocol::on_headers_complete;
  s.on_body = &HttpProtocol::on_body;
  s.on_message_complete = &HttpProtocol::on_message_complete;
  return s;
}();

HttpProtocol::HttpProtocol(std::shared_ptr<ServerShared> shared) : shared_(std::move(shared)) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

HttpProtocol::~HttpProtocol() = default;

void HttpProtocol::connection_made(Transport& transport) {
  transport_ = &transport;
  loop_ = &get_running_loop();
  shared_->connections.insert(this);
  if (shared_->shutting_down) {
    transport.close();
    return;
  }
  set_deadline(shared_->options.keepalive_timeout);
}

void HttpProtocol::connection_lost(std::exception_ptr) {
  lost_ = true;
  shared_->connections.erase(this);
  timer_.cancel();
  timer_ = TimerHandle();
  queue_.clear();
  // aiohttp 3.8: the handler of a client that went away is cancelled.
  if (running_) task_.cancel();
  transport_ = nullptr;
}

bool HttpProtocol::eof_received() {
  // The client sent EOF: the connection closes and a handler still running is
  // cancelled (aiohttp's RequestHandler keeps Protocol's default).
  return false;
}

void HttpProtocol::pause_writing() {
  writing_paused_ = true;
  update_reading();
}

void HttpProtocol::resume_writing() {
  writing_paused_ = false;
  update_reading();
}

void HttpProtocol::update_reading() {
  if (lost_ || !transport_) return;
  bool want_pause = broken_ || writing_paused_ || queue_.size() >= shared_->options.max_pipelined;
  if (want_pause && !reading_paused_) {
    reading_paused_ = true;
    transport_->pause_reading();
  } else if (!want_pause && reading_paused_) {
    reading_paused_ = false;
    transport_->resume_reading();
  }
}

void HttpProtocol::shutdown() {
  shutdown_ = true;
  if (transport_ && !running_ && queue_.empty()) transport_->close();
}

// ---- timeouts ---------------------------------------------------------------------

void HttpProtocol::set_deadline(double seconds) {
  deadline_ = loop_->time() + seconds;
  if (timer_when_ != 0 && timer_when_ <= deadline_) return;  // fires first, then re-arms
  timer_.cancel();
  timer_when_ = deadline_;
  timer_ = loop_->call_later(seconds, [this] { on_timer(); });
}

void HttpProtocol::on_timer() {
  timer_when_ = 0;
  if (deadline_ == 0 || lost_) return;
  double now = loop_->time();
  if (now < deadline_) {
    timer_when_ = deadline_;
    timer_ = loop_->call_later(deadline_ - now, [this] { on_timer(); });
    return;
  }
  // Idle too long between requests, or a request that trickles in: drop the client.
  deadline_ = 0;
  if (transport_) transport_->close();
}

// ---- parsing ----------------------------------------------------------------------

void HttpProtocol::data_received(std::string_view data) {
  if (broken_ || lost_) return;
  std::size_t parsed = http_parser_execute(&parser_, &settings_, data.data(), data.size());
  if (broken_) return;  // a callback failed the request
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err != HPE_OK) {
    if (err == HPE_HEADER_OVERFLOW) {
      fail(431, "431: Request Header Fields Too Large");
    } else {
      fail(400, std::string("400: Bad Request\n\n") + http_errno_description(err));
    }
  } else if (parser_.upgrade || parsed != data.size()) {
    fail(400, "400: Bad Request\n\nUpgrade is not supported");
  }
}

bool HttpProtocol::count_header_bytes(std::size_t n) {
  header_bytes_ += n;
  if (header_bytes_ <= shared_->options.max_header_size) return true;
  fail(431, "431: Request Header Fields Too Large");
  return false;
}

void HttpProtocol::fail(int status, std::string text) {
  broken_ = true;
  in_message_ = false;
  deadline_ = 0;
  update_reading();
  Item item;
  item.error_status = status;
  item.error_text = std::move(text);
  enqueue(std::move(item));
}

int HttpProtocol::on_message_begin(http_parser* p) {
  auto& self = self_of(p);
  self.current_ = Item{};
  self.field_.clear();
  self.value_.clear();
  self.last_was_value_ = false;
  self.header_bytes_ = 0;
  self.in_message_ = true;
  self.set_deadline(self.shared_->options.request_timeout);
  return 0;
}

int HttpProtocol::on_url(http_parser* p, const char* at, std::size_t n) {
  auto& self = self_of(p);
  if (!self.count_header_bytes(n)) return 1;
  self.current_.request.raw_path.append(at, n);
  return 0;
}

int HttpProtocol::on_header_field(http_parser* p, const char* at, std::size_t n) {
  auto& self = self_of(p);
  if (!self.count_header_bytes(n + 4)) return 1;  // ": " and CRLF count too
  if (self.last_was_value_) {
    self.current_.request.headers.add(std::move(self.field_), std::move(self.value_));
    self.field_.clear();
    self.value_.clear();
    self.last_was_value_ = false;
  }
  self.field_.append(at, n);
  return 0;
}

int HttpProtocol::on_header_value(http_parser* p, const char* at, std::size_t n) {
  auto& self = self_of(p);
  if (!self.count_header_bytes(n)) return 1;
  self.value_.append(at, n);
  self.last_was_value_ = true;
  return 0;
}

int HttpProtocol::on_headers_complete(http_parser* p) {
  auto& self = self_of(p);
  Request& r = self.current_.request;
  if (self.last_was_value_ || !self.field_.empty()) {
    r.headers.add(std::move(self.field_), std::move(self.value_));
    self.field_.clear();
    self.value_.clear();
  }
  r.method = http_method_str(static_cast<http_method>(p->method));
  r.version_major = p->http_major;
  r.version_minor = p->http_minor;
  r.keep_alive = http_should_keep_alive(p) != 0;
  split_target(r);
  const auto& opts = self.shared_->options;
  bool has_length = (p->flags & F_CONTENTLENGTH) != 0;
  if (has_length && p->content_length > opts.client_max_size) {
    self.fail(413, "413: Request Entity Too Large");
    return -1;  // an error for the parser: it stops here
  }
  if (has_length) r.body.reserve(static_cast<std::size_t>(p->content_length));
  if ((has_length && p->content_length > 0) || (p->flags & F_CHUNKED)) {
    auto expect = r.headers.get("Expect");
    if (expect && iequals(*expect, "100-continue") && self.transport_)
      self.transport_->write(std::string_view("HTTP/1.1 100 Continue\r\n\r\n"));
  }
  return r.method == "HEAD" ? 1 : 0;  // 1: a HEAD request has no body
}

int HttpProtocol::on_body(http_parser* p, const char* at, std::size_t n) {
  auto& self = self_of(p);
  if (self.broken_) return 1;
  Request& r = self.current_.request;
  if (r.body.size() + n > self.shared_->options.client_max_size) {
    self.fail(413, "413: Request Entity Too Large");
    return 1;
  }
  r.body.append(at, n);
  return 0;
}

int HttpProtocol::on_message_complete(http_parser* p) {
  auto& self = self_of(p);
  if (self.broken_) return 1;
  self.in_message_ = false;
  self.deadline_ = 0;
  self.enqueue(std::move(self.current_));
  self.current_ = Item{};
  return 0;
}

void HttpProtocol::enqueue(Item item) {
  queue_.push_back(std::move(item));
  update_reading();
  if (!running_ && !lost_) {
    running_ = true;
    task_ = create_task(serve());
  }
}

// ---- answering --------------------------------------------------------------------

Coro<void> HttpProtocol::serve() {
  auto self = shared_from_this();  // alive while answering, even if the connection goes
  while (!queue_.empty() && !lost_) {
    Item item = std::move(queue_.front());
    queue_.pop_front();
    update_reading();
    if (item.error_status != 0) {
      write_error(item.error_status, item.error_text);
      queue_.clear();
      transport_->close();
      break;
    }
    Response response;
    std::exception_ptr error;
    try {
      response = co_await shared_->app->handle(item.request);
    } catch (const CancelledError&) {
      throw;
    } catch (...) {
      error = std::current_exception();
    }
    if (lost_) break;
    if (error) {
      loop_->call_exception_handler(ExceptionContext{"Error handling request", error, {}, {}});
      response = plain_response(500, "500 Internal Server Error\n\nServer got itself in trouble");
    }
    for (const auto& prepare : shared_->app->on_response_prepare) {
      std::exception_ptr failed;
      try {
        co_await prepare(item.request, response);
      } catch (const CancelledError&) {
        throw;
      } catch (...) {
        failed = std::current_exception();
      }
      if (failed) {
        loop_->call_exception_handler(ExceptionContext{"Error handling request", failed, {}, {}});
        response = plain_response(500, "500 Internal Server Error\n\nServer got itself in trouble");
        break;
      }
    }
    if (lost_) break;
    bool keep_alive = item.request.keep_alive && !shutdown_ && !shared_->shutting_down;
    write_response(response, item.request, keep_alive);
    if (!keep_alive) {
      queue_.clear();
      transport_->close();
      break;
    }
  }
  running_ = false;
  if (!lost_ && transport_ && !transport_->is_closing()) {
    if (shutdown_) {
      transport_->close();
    } else if (!in_message_) {
      set_deadline(shared_->options.keepalive_timeout);
    }
  }
}

void HttpProtocol::write_response(const Response& response, const Request& request,
                                  bool keep_alive) {
  bool is_text = !response.text.empty() || response.body.empty();
  const std::string& payload = is_text ? response.text : response.body;
  bool no_body = request.method == "HEAD" || response.status == 204 || response.status == 304 ||
                 (response.status >= 100 && response.status < 200);
  std::string out;
  out.reserve(192 + (payload.size() <= kCoalesceLimit ? payload.size() : 0));
  out += request.version_minor == 0 && request.version_major == 1 ? "HTTP/1.0 " : "HTTP/1.1 ";
  append_number(out, static_cast<std::size_t>(response.status));
  out += ' ';
  out +=
      response.reason.empty() ? reason_phrase(response.status) : std::string_view(response.reason);
  out += "\r\nContent-Type: ";
  if (!response.content_type.empty()) {
    out += response.content_type;
  } else {
    out += is_text ? "text/plain" : "application/octet-stream";
  }
  if (is_text && response.content_type.find("charset") == std::string::npos)
    out += "; charset=utf-8";
  if (response.status != 204) {
    out += "\r\nContent-Length: ";
    append_number(out, payload.size());
  }
  out += "\r\nDate: ";
  out += http_date();
  out += "\r\nServer: asyncio-cpp\r\n";
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (request.version_minor == 0) {
    out += "Connection: keep-alive\r\n";
  }
  for (const auto& [k, v] : response.headers) {
    if (iequals(k, "Content-Length") || iequals(k, "Connection") || iequals(k, "Content-Type"))
      continue;
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  out += "\r\n";
  if (no_body || payload.empty()) {
    transport_->write(std::move(out));
  } else if (payload.size() <= kCoalesceLimit) {
    out += payload;
    transport_->write(std::move(out));
  } else {
    transport_->write(std::move(out));
    transport_->write(
        std::string_view(payload));  // copied only if the socket cannot take it at once
  }
}

void HttpProtocol::write_error(int status, const std::string& text) {
  Request request;  // HTTP/1.1, GET
  request.method = "GET";
  write_response(plain_response(status, text), request, false);
}

}  // namespace asyncio::http::web::detail
