#pragma once
// The I/O-bound demonstration's "external resource": a latency server in its own process
// (`build/examples/io_demo serve 0 LATENCY`: GET /page/N answers after LATENCY seconds).
// `asyncio-tour io` measures against it (io.hpp), the report traces its timelines against it
// (report.hpp).
#include <sys/types.h>

#include <cstdio>

namespace tour {

class LatencyServer {
 public:
  /// Starts the server and reads the port from its banner; port() is 0 if it did not start.
  explicit LatencyServer(double latency);
  LatencyServer(const LatencyServer&) = delete;
  LatencyServer& operator=(const LatencyServer&) = delete;
  /// SIGTERM: the server shuts down gracefully (web::run_app's handling), and is waited for.
  ~LatencyServer();
  int port() const { return port_; }

 private:
  pid_t pid_ = 0;
  FILE* out_ = nullptr;
  int port_ = 0;
};

}  // namespace tour
