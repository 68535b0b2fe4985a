// W4 load generator (bench/README.md): C connections to 127.0.0.1:PORT, each
// sends a 64-byte request, waits for the 64-byte echo, and repeats, for S
// seconds. Plain epoll, no library: the same fixed client for every server.
// Prints `requests=<integer> seconds=<float>`.
//
// Usage: w4_loadgen PORT [CONNECTIONS=100] [SECONDS=5] [SIZE=64]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

struct Conn {
  int fd = -1;
  std::size_t got = 0;  // bytes of the current echo received
};

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: w4_loadgen PORT [CONNECTIONS] [SECONDS] [SIZE]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int nconn = argc > 2 ? std::atoi(argv[2]) : 100;
  const double seconds = argc > 3 ? std::atof(argv[3]) : 5.0;
  const std::size_t size = argc > 4 ? static_cast<std::size_t>(std::atoi(argv[4])) : 64;
  std::vector<char> request(size, 'r'), buf(65536);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Conn> conns(static_cast<std::size_t>(nconn));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < nconn; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::perror("connect");
      return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    conns[static_cast<std::size_t>(i)].fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  long long requests = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const auto end = t0 + std::chrono::duration<double>(seconds);
  for (auto& c : conns) {
    if (write(c.fd, request.data(), size) != static_cast<ssize_t>(size)) return 1;
  }
  std::vector<epoll_event> events(static_cast<std::size_t>(nconn));
  for (;;) {
    int n = epoll_wait(ep, events.data(), nconn, 100);
    if (std::chrono::steady_clock::now() >= end) break;
    for (int k = 0; k < n; ++k) {
      Conn& c = conns[events[static_cast<std::size_t>(k)].data.u32];
      ssize_t r = read(c.fd, buf.data(), buf.size());
      if (r <= 0) {
        std::fprintf(stderr, "w4_loadgen: the server closed a connection\n");
        return 1;
      }
      c.got += static_cast<std::size_t>(r);
      while (c.got >= size) {
        c.got -= size;
        ++requests;
        if (write(c.fd, request.data(), size) != static_cast<ssize_t>(size)) return 1;
      }
    }
  }
  const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
  std::printf("requests=%lld seconds=%.6f\n", requests, dt.count());
  for (auto& c : conns) close(c.fd);
}
