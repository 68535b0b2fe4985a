#pragma once
// A raw HTTP/1.1 server for the client's tests: blocking sockets on
// 127.0.0.1, one thread per connection, and a handler per test that writes
// whatever bytes it likes (so that it can misbehave: cut a body short, send a
// malformed status line, never answer). It counts connections so that tests
// can check the client's limit and that no socket is left open.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace test {

/// One request as the server read it.
struct RawRequest {
  std::string method, path, head, body;  // head: the request line and headers
  /// The value of header `name` (case-insensitive), or "".
  std::string header(std::string_view name) const {
    std::string lower_head = lower(head), key = "\r\n" + lower(std::string(name)) + ":";
    auto pos = lower_head.find(key);
    if (pos == std::string::npos) return {};
    pos += key.size();
    auto end = head.find("\r\n", pos);
    std::string v = head.substr(pos, end - pos);
    v.erase(0, v.find_first_not_of(' '));
    return v;
  }
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
};

/// One accepted connection.
class RawConnection {
 public:
  explicit RawConnection(int fd) : fd_(fd) {}
  /// Reads the next request (Content-Length or chunked body); false at EOF.
  bool read_request(RawRequest& r) {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return false;
    r.head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    auto sp1 = r.head.find(' '), sp2 = r.head.find(' ', sp1 + 1);
    r.method = r.head.substr(0, sp1);
    r.path = r.head.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t length = r.header("Content-Length").empty() ? 0 : std::stoul(r.header("Content-Length"));
    while (buf_.size() < length)
      if (!fill()) return false;
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return true;
  }
  /// Waits until the client closes the connection (or the server stops).
  void wait_for_eof() {
    while (fill()) buf_.clear();
  }
  void send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  /// A complete response with a Content-Length.
  void respond(int status, std::string_view reason, std::string_view body, std::string_view headers = "") {
    send("HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + std::string(headers) + "\r\n" + std::string(body));
  }

 private:
  bool fill() {
    char tmp[4096];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  int fd_;
  std::string buf_;
};

class RawServer {
 public:
  using Handler = std::function<void(RawConnection&)>;

  explicit RawServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 512) != 0)
      throw std::runtime_error("RawServer: cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  RawServer(const RawServer&) = delete;
  ~RawServer() { stop(); }

  /// Stops accepting, shuts every connection down, joins the threads.
  void stop() {
    if (stopped_.exchange(true)) return;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    cv_.notify_all();
    for (auto& t : threads) t.join();
  }

  int port() const { return port_; }
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  int accepted() const { return accepted_.load(); }
  int max_open() const { return max_open_.load(); }
  /// Connections open now (callable from a wait_until predicate).
  int open_now() const { return open_.load(); }
  /// Blocks (up to `limit`) until `pred()` holds; the handler threads call
  /// notify() when something changed. Returns pred().
  template <class Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return stopped_.load() || pred(); }) && pred();
  }
  /// Wakes wait_until() after a handler changed what its predicate reads.
  void notify() {
    { std::lock_guard lock(mutex_); }  // no lost wake-up between a waiter's check and its wait
    cv_.notify_all();
  }

  /// Counters the handlers may use, guarded by the server's lock in wait_until.
  std::atomic<int> requests{0};

 private:
  void accept_loop() {
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::lock_guard lock(mutex_);
      if (stopped_) {
        ::close(fd);
        return;
      }
      open_fds_.push_back(fd);
      ++open_;
      ++accepted_;
      max_open_ = std::max(max_open_.load(), static_cast<int>(open_fds_.size()));
      threads_.emplace_back([this, fd] { serve(fd); });
      cv_.notify_all();
    }
  }
  void serve(int fd) {
    RawConnection conn(fd);
    handler_(conn);
    std::lock_guard lock(mutex_);
    open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
    --open_;
    ::close(fd);
    cv_.notify_all();
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
  std::atomic<int> open_{0};
  std::atomic<int> accepted_{0};
  std::atomic<int> max_open_{0};
  std::atomic<bool> stopped_{false};
};

}  // namespace test
