// W1 spawn, raw libuv callback anchor: the floor for a libuv-based design.
//
// Each "task" is a heap-allocated state machine with two steps. Creating it
// puts it on a ready queue (asyncio's call_soon); step 0 is sleep(0), which
// puts it back on the queue; step 1 stores its index in the results array
// (gather's result list), counts down and frees the state. One uv_idle handle
// drives the ready queue and, like asyncio's _run_once, runs only the entries
// that were ready when the loop iteration began. The results are then summed.
//
// Usage: uv_w1_spawn [N]   prints `seconds=<float> result=<integer>`.
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <vector>

namespace {

struct TaskState {
  TaskState* next = nullptr;  // intrusive ready-queue link
  long index;
  int step = 0;
};

// FIFO of ready tasks, intrusive singly-linked list.
struct ReadyQueue {
  TaskState* head = nullptr;
  TaskState** tail = &head;

  void push(TaskState* t) {
    t->next = nullptr;
    *tail = t;
    tail = &t->next;
  }
  TaskState* take_all() {
    TaskState* all = head;
    head = nullptr;
    tail = &head;
    return all;
  }
  bool empty() const { return head == nullptr; }
};

struct Gather {
  std::vector<long> results;
  long remaining;
};

ReadyQueue ready;
Gather gather;

void run_step(TaskState* t) {
  if (t->step == 0) {  // `await sleep(0)`: yield to the loop once
    t->step = 1;
    ready.push(t);
    return;
  }
  gather.results[t->index] = t->index;  // `return index`
  --gather.remaining;
  delete t;
}

void on_idle(uv_idle_t* idle) {
  for (TaskState* t = ready.take_all(); t != nullptr;) {
    TaskState* next = t->next;
    run_step(t);
    t = next;
  }
  if (ready.empty()) uv_idle_stop(idle);
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  uv_loop_t* loop = uv_default_loop();
  uv_idle_t idle;
  uv_idle_init(loop, &idle);

  const auto t0 = std::chrono::steady_clock::now();
  gather.results.assign(n, 0);
  gather.remaining = n;
  for (long i = 0; i < n; ++i) ready.push(new TaskState{nullptr, i, 0});
  if (!ready.empty()) uv_idle_start(&idle, on_idle);
  uv_run(loop, UV_RUN_DEFAULT);
  const long result = std::accumulate(gather.results.begin(), gather.results.end(), 0L);
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - t0;

  uv_close(reinterpret_cast<uv_handle_t*>(&idle), nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  if (uv_loop_close(loop) != 0 || gather.remaining != 0) {
    std::fprintf(stderr, "uv_w1_spawn: %ld tasks unfinished or loop not closed\n",
                 gather.remaining);
    return 1;
  }
  std::printf("seconds=%.6f result=%ld\n", seconds.count(), result);
  return 0;
}
