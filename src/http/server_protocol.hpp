#pragma once
// The HTTP/1.x server protocol: one per connection (aiohttp's
// `web_protocol.RequestHandler`), parsing with libhttp-parser.
//
// Per request: the parser's callbacks fill a Request in place (one copy of the
// bytes from the transport's buffer: no other copy of the body), the request
// is queued, and one task per burst of requests (started when the queue goes
// from empty to non-empty, ending when it is empty again) runs the handlers in
// order and writes the answers: the only coroutine frames per request are the
// handler's and Application::handle's.
//
// Timers: one TimerHandle per connection, re-armed lazily (a deadline field is
// moved; the timer re-arms itself when it fires early), so a keep-alive
// request costs no timer allocation.
#include <http_parser.h>

#include <deque>
#include <memory>
#include <string>
#include <unordered_set>

#include "asyncio/events.hpp"
#include "asyncio/http/server.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/tasks.hpp"

namespace asyncio::http::web::detail {

class HttpProtocol;

/// Fills `path` (percent-decoded) and `query_string` from `raw_path`.
void split_target(Request& request);
/// Percent-decoding (`urllib.parse.unquote`; `unquote_plus` with plus_as_space).
std::string unquote(std::string_view s, bool plus_as_space = false);
/// A text/plain response.
Response plain_response(int status, std::string text);

/// What a runner's connections share.
struct ServerShared {
  const Application* app = nullptr;
  ServerOptions options;
  std::unordered_set<HttpProtocol*> connections;
  bool shutting_down = false;
};

class HttpProtocol final : public Protocol, public std::enable_shared_from_this<HttpProtocol> {
 public:
  explicit HttpProtocol(std::shared_ptr<ServerShared> shared);
  ~HttpProtocol() override;

  void connection_made(Transport& transport) override;
  void data_received(std::string_view data) override;
  bool eof_received() override;
  void connection_lost(std::exception_ptr exc) override;
  void pause_writing() override;
  void resume_writing() override;

  /// Graceful shutdown: closes now when idle, else after the answer in flight.
  void shutdown();

 private:
  struct Item {
    Request request;
    int error_status = 0;  // 400, 413, 431: answer this and close
    std::string error_text;
  };

  // http_parser callbacks
  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, std::size_t n);
  static int on_header_field(http_parser* p, const char* at, std::size_t n);
  static int on_header_value(http_parser* p, const char* at, std::size_t n);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, std::size_t n);
  static int on_message_complete(http_parser* p);
  static const http_parser_settings settings_;

  bool count_header_bytes(std::size_t n);
  void fail(int status, std::string text);
  void enqueue(Item item);
  Coro<void> serve();
  void write_response(const Response& response, const Request& request, bool keep_alive);
  void write_error(int status, const std::string& text);
  void update_reading();

  void set_deadline(double seconds);
  void on_timer();

  std::shared_ptr<ServerShared> shared_;
  Transport* transport_ = nullptr;
  EventLoop* loop_ = nullptr;
  http_parser parser_{};
  Item current_;
  std::string field_, value_;
  bool last_was_value_ = false;
  bool in_message_ = false;
  std::size_t header_bytes_ = 0;
  std::deque<Item> queue_;
  AnyTask task_;
  bool running_ = false;
  bool broken_ = false;  // a parse error: no more input is read
  bool lost_ = false;
  bool reading_paused_ = false;
  bool writing_paused_ = false;
  bool shutdown_ = false;  // close once the answer in flight is written
  double deadline_ = 0;    // loop time; 0: none
  double timer_when_ = 0;  // when the armed timer fires; 0: not armed
  TimerHandle timer_;
};

}  // namespace asyncio::http::web::detail
