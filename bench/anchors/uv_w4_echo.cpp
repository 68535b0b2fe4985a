// W4 TCP echo server on raw libuv callbacks: read, then uv_try_write (a
// uv_write of a copy for what the socket did not take). Listens on
// 127.0.0.1:PORT (0: a free port), prints `port=<port>`, serves until killed.
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

char g_buf[65536];

struct WriteReq {
  uv_write_t req;
  char data[1];
};

void on_close(uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); }

void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  if (n < 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(s), on_close);
    return;
  }
  if (n == 0) return;
  uv_buf_t b = uv_buf_init(buf->base, static_cast<unsigned>(n));
  int w = uv_try_write(s, &b, 1);
  if (w == n) return;
  if (w < 0) w = 0;
  std::size_t rest = static_cast<std::size_t>(n - w);
  auto* req = static_cast<WriteReq*>(std::malloc(sizeof(WriteReq) + rest));
  std::memcpy(req->data, buf->base + w, rest);
  uv_buf_t rb = uv_buf_init(req->data, static_cast<unsigned>(rest));
  uv_write(&req->req, s, &rb, 1, [](uv_write_t* r, int) { std::free(r); });
}

void on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  auto* client = new uv_tcp_t;
  uv_tcp_init(server->loop, client);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(client)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(client), on_close);
    return;
  }
  uv_tcp_nodelay(client, 1);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(client),
      [](uv_handle_t*, std::size_t, uv_buf_t* b) { *b = uv_buf_init(g_buf, sizeof g_buf); }, on_read);
}

}  // namespace

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 0;
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", port, &addr);
  uv_tcp_bind(&server, reinterpret_cast<sockaddr*>(&addr), 0);
  if (uv_listen(reinterpret_cast<uv_stream_t*>(&server), 128, on_connection) != 0) return 1;
  sockaddr_storage bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&server, reinterpret_cast<sockaddr*>(&bound), &len);
  std::printf("port=%d\n", ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port));
  std::fflush(stdout);
  return uv_run(loop, UV_RUN_DEFAULT);
}
