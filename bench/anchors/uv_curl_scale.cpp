// Anchor for io_demo's scale run: N GET requests to a local server, at most C
// at once, on plain libcurl's multi-socket interface driven by raw libuv
// callbacks (curl's docs/examples/multi-uv.c pattern: one uv_poll_t per socket,
// one uv_timer_t), with no library of ours. It measures what curl itself costs
// per request at C connections, the floor for src/http/curl_multi.cpp.
//
//   build/bench/uv_curl_scale PORT N C    # prints seconds=<float> result=<requests that got 200>
//
// Like the client: one multi handle, CURLMOPT_MAX_TOTAL_CONNECTIONS = C and a
// connection cache of C; a new easy handle per request (curl's examples do
// so); each transfer that ends starts the next one.
#include <curl/curl.h>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

uv_loop_t* loop;
CURLM* multi;
uv_timer_t timeout;
int port = 0;
int to_start = 0;  // requests not started yet
int started = 0;
int ok = 0;

struct Socket {
  uv_poll_t poll;
  curl_socket_t fd;
};

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

void start_one() {
  CURL* easy = curl_easy_init();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/page/" + std::to_string(started++);
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_multi_add_handle(multi, easy);
  --to_start;
}

void check_done() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    long status = 0;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
    if (msg->data.result == CURLE_OK && status == 200) ++ok;
    CURL* easy = msg->easy_handle;
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
    if (to_start > 0) start_one();
  }
}

void on_poll(uv_poll_t* handle, int status, int events) {
  auto* s = static_cast<Socket*>(handle->data);
  int flags = 0;
  if (status < 0) flags |= CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  int running = 0;
  curl_multi_socket_action(multi, s->fd, flags, &running);
  check_done();
}

void on_timeout(uv_timer_t*) {
  int running = 0;
  curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done();
}

int on_timer(CURLM*, long timeout_ms, void*) {
  if (timeout_ms < 0) {
    uv_timer_stop(&timeout);
  } else {
    uv_timer_start(&timeout, on_timeout, static_cast<std::uint64_t>(timeout_ms), 0);
  }
  return 0;
}

int on_socket(CURL*, curl_socket_t fd, int action, void*, void* socketp) {
  auto* s = static_cast<Socket*>(socketp);
  if (action == CURL_POLL_REMOVE) {
    if (s != nullptr) {
      curl_multi_assign(multi, fd, nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&s->poll), [](uv_handle_t* h) { delete static_cast<Socket*>(h->data); });
    }
    return 0;
  }
  if (s == nullptr) {
    s = new Socket{{}, fd};
    uv_poll_init_socket(loop, &s->poll, fd);
    s->poll.data = s;
    curl_multi_assign(multi, fd, s);
  }
  int events = 0;
  if (action & CURL_POLL_IN) events |= UV_READABLE;
  if (action & CURL_POLL_OUT) events |= UV_WRITABLE;
  uv_poll_start(&s->poll, events, on_poll);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: uv_curl_scale PORT N C\n");
    return 2;
  }
  port = std::atoi(argv[1]);
  int n = std::atoi(argv[2]);
  long c = std::atol(argv[3]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  loop = uv_default_loop();
  auto t0 = std::chrono::steady_clock::now();
  multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, c);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, c);
  uv_timer_init(loop, &timeout);
  to_start = n;
  for (long i = 0; i < c && to_start > 0; ++i) start_one();
  uv_run(loop, UV_RUN_DEFAULT);
  curl_multi_cleanup(multi);
  std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
  uv_close(reinterpret_cast<uv_handle_t*>(&timeout), nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  curl_global_cleanup();
  std::printf("seconds=%.3f result=%d\n", d.count(), ok);
  return ok == n ? 0 : 1;
}
