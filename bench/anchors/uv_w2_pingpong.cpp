// W2 ping-pong, raw libuv callback anchor: the floor for a libuv-based design.
//
// Two callback state machines (producer and consumer) hand N messages through
// a one-slot buffer and back through a second one; the producer sums the
// values it gets back. A machine that finds a slot empty (receive) or full
// (send) parks itself on the slot; the other side's next operation wakes it
// by putting it on a ready queue (asyncio's call_soon). One uv_idle handle
// drives the ready queue and, like asyncio's _run_once, runs only the entries
// that were ready when the loop iteration began, so every hand-off costs one
// loop iteration, as a resolved asyncio future does.
//
// libuv polls for I/O (epoll_wait, timeout 0) on every loop iteration while
// the idle handle is active, even with no fd to watch, so each hand-off costs
// one epoll_wait here: 2 syscalls per round trip.
//
// --drain: the idle callback instead runs the ready queue until it is empty,
// so hand-offs never go back to the loop (no poll between them); this measures
// the state machines alone, the floor for a design that does not poll I/O
// between ready callbacks.
//
// Usage: uv_w2_pingpong [N] [--drain]   prints `seconds=<float> result=<integer>`.
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace {

struct Machine {
  Machine* next = nullptr;  // intrusive ready-queue link
  void (*resume)(Machine*);
};

// FIFO of machines ready to run, intrusive singly-linked list.
struct ReadyQueue {
  Machine* head = nullptr;
  Machine** tail = &head;

  void push(Machine* m) {
    m->next = nullptr;
    *tail = m;
    tail = &m->next;
  }
  Machine* take_all() {
    Machine* all = head;
    head = nullptr;
    tail = &head;
    return all;
  }
  bool empty() const { return head == nullptr; }
};

ReadyQueue ready;
uv_idle_t idle;
bool drain = false;  // --drain

void on_idle(uv_idle_t* h) {
  do {
    for (Machine* m = ready.take_all(); m != nullptr;) {
      Machine* next = m->next;
      m->resume(m);
      m = next;
    }
  } while (drain && !ready.empty());
  if (ready.empty()) uv_idle_stop(h);
}

void schedule(Machine* m) {
  if (ready.empty()) uv_idle_start(&idle, on_idle);  // no-op if already started
  ready.push(m);
}

// One-slot buffer for one sender and one receiver. A parked machine is woken
// to retry its operation. Invariant: a receiver is parked only while the slot
// is empty, a sender only while it is full.
struct Slot {
  bool full = false;
  long value = 0;
  Machine* parked_receiver = nullptr;
  Machine* parked_sender = nullptr;

  // Returns false if the slot is full; `self` is parked and retries later.
  bool send(long v, Machine* self) {
    if (full) {
      parked_sender = self;
      return false;
    }
    value = v;
    full = true;
    if (parked_receiver) schedule(std::exchange(parked_receiver, nullptr));
    return true;
  }
  // Returns false if the slot is empty; `self` is parked and retries later.
  bool receive(long& out, Machine* self) {
    if (!full) {
      parked_receiver = self;
      return false;
    }
    out = value;
    full = false;
    if (parked_sender) schedule(std::exchange(parked_sender, nullptr));
    return true;
  }
};

Slot there, back;

// for i in range(n): send(there, i); total += receive(back)
struct Producer : Machine {
  long n, i = 0, total = 0;
  bool sent = false;  // the current i is in `there`; waiting for its reply
};

void producer_resume(Machine* m) {
  auto* p = static_cast<Producer*>(m);
  for (; p->i < p->n; ++p->i) {
    if (!p->sent && !there.send(p->i, p)) return;
    p->sent = true;
    long reply;
    if (!back.receive(reply, p)) return;
    p->total += reply;
    p->sent = false;
  }
}

// for _ in range(n): send(back, receive(there))
struct Consumer : Machine {
  long n, count = 0, value = 0;
  bool received = false;  // `value` came from `there`; not yet sent back
};

void consumer_resume(Machine* m) {
  auto* c = static_cast<Consumer*>(m);
  for (; c->count < c->n; ++c->count) {
    if (!c->received && !there.receive(c->value, c)) return;
    c->received = true;
    if (!back.send(c->value, c)) return;
    c->received = false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  long n = 1'000'000;
  for (int a = 1; a < argc; ++a) {
    if (std::strcmp(argv[a], "--drain") == 0) {
      drain = true;
    } else {
      n = std::atol(argv[a]);
    }
  }
  uv_loop_t* loop = uv_default_loop();
  uv_idle_init(loop, &idle);
  Producer producer;
  producer.resume = producer_resume;
  producer.n = n;
  Consumer consumer;
  consumer.resume = consumer_resume;
  consumer.n = n;

  const auto t0 = std::chrono::steady_clock::now();
  schedule(&producer);
  schedule(&consumer);
  uv_run(loop, UV_RUN_DEFAULT);
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - t0;

  uv_close(reinterpret_cast<uv_handle_t*>(&idle), nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  if (uv_loop_close(loop) != 0 || producer.i != n || consumer.count != n) {
    std::fprintf(stderr, "uv_w2_pingpong: unfinished (producer %ld, consumer %ld of %ld)\n",
                 producer.i, consumer.count, n);
    return 1;
  }
  std::printf("seconds=%.6f result=%ld\n", seconds.count(), producer.total);
  return 0;
}
