// W2 ping-pong, Boost.Asio C++20 coroutine anchor.
//
// Two coroutines on a single-threaded io_context pass N messages through a
// one-slot channel and back through a second one (a round trip = one message
// there and one back); the producer sums the values it gets back.
//
// Boost 1.74 has no asio::experimental::channel (a later addition), so Slot
// below is a minimal capacity-1 channel built the way that channel works: a
// coroutine that must wait parks its completion handler, and the side that
// unblocks it completes the handler with post(). (A steady_timer-as-condition
// handoff would add a timer queue and the epoll reactor to every wait, which
// measures timers rather than Asio's coroutine hand-off.)
//
// Usage: asio_w2_pingpong [N]   prints `seconds=<float> result=<integer>`.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>

namespace asio = boost::asio;

namespace {

// A parked completion handler of signature void(long), type-erased.
struct Waiter {
  virtual ~Waiter() = default;
  virtual void complete(long value) = 0;
};

template <class Handler>
struct WaiterFor final : Waiter {
  explicit WaiterFor(Handler h) : handler(std::move(h)) {}
  void complete(long value) override {
    auto ex = asio::get_associated_executor(handler);
    asio::post(ex, [h = std::move(handler), value]() mutable { std::move(h)(value); });
  }
  Handler handler;
};

// Capacity-1 channel for one sender and one receiver.
// Invariant: a receiver is parked only while the slot is empty, a sender only
// while it is full.
class Slot {
 public:
  asio::awaitable<void> send(long value) {
    while (value_) co_await park(sender_);  // full: wait until the receiver takes it
    if (receiver_) {
      wake(receiver_, value);  // hand over directly to the parked receiver
    } else {
      value_ = value;
    }
  }

  asio::awaitable<long> receive() {
    if (!value_) co_return co_await park(receiver_);  // empty: a send completes us
    const long value = *value_;
    value_.reset();
    if (sender_) wake(sender_, 0);
    co_return value;
  }

 private:
  static asio::awaitable<long> park(std::unique_ptr<Waiter>& where) {
    return asio::async_initiate<decltype(asio::use_awaitable), void(long)>(
        [&where](auto handler) {
          where = std::make_unique<WaiterFor<decltype(handler)>>(std::move(handler));
        },
        asio::use_awaitable);
  }
  static void wake(std::unique_ptr<Waiter>& where, long value) {
    std::unique_ptr<Waiter> w = std::move(where);
    w->complete(value);
  }

  std::optional<long> value_;
  std::unique_ptr<Waiter> receiver_;
  std::unique_ptr<Waiter> sender_;
};

asio::awaitable<void> producer(Slot& there, Slot& back, long n, long& total) {
  for (long i = 0; i < n; ++i) {
    co_await there.send(i);
    total += co_await back.receive();
  }
}

asio::awaitable<void> consumer(Slot& there, Slot& back, long n) {
  for (long i = 0; i < n; ++i) co_await back.send(co_await there.receive());
}

void rethrow_if(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  asio::io_context io(1);  // concurrency hint 1: the documented single-threaded mode
  Slot there, back;
  long total = 0;
  int finished = 0;

  const auto t0 = std::chrono::steady_clock::now();
  asio::co_spawn(io, producer(there, back, n, total), [&](std::exception_ptr e) {
    rethrow_if(e);
    ++finished;
  });
  asio::co_spawn(io, consumer(there, back, n), [&](std::exception_ptr e) {
    rethrow_if(e);
    ++finished;
  });
  io.run();
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - t0;

  if (finished != 2) {
    std::fprintf(stderr, "asio_w2_pingpong: %d of 2 coroutines finished\n", finished);
    return 1;
  }
  std::printf("seconds=%.6f result=%ld\n", seconds.count(), total);
  return 0;
}
