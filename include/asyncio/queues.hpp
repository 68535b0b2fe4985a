#pragma once
/// \file queues.hpp
/// Queues for tasks (CPython `asyncio/queues.py`, 3.13): `Queue<T>` (first
/// in, first out), `LifoQueue<T>` (last in, first out), `PriorityQueue<T,
/// Compare>` (lowest first), and `QueueEmpty`, `QueueFull`, `QueueShutDown`
/// (exceptions.hpp).
///
/// ```cpp
/// asyncio::Queue<int> q(/*maxsize=*/1);       // q = asyncio.Queue(maxsize=1)
/// co_await q.put(42);                         // await q.put(42)
/// int x = co_await q.get();                   // x = await q.get()
/// q.put_nowait(7);  q.get_nowait();           // QueueFull / QueueEmpty
/// q.task_done();  co_await q.join();          // unfinished-task accounting
/// q.shutdown();                               // 3.13: puts and gets raise QueueShutDown
/// ```
///
/// Semantics, to the iteration, as CPython's:
///
/// - `put` waits while the queue is full, `get` while it is empty; each wakes
///   the first waiter of the other side (it resumes on the next iteration). A
///   woken waiter re-checks: if the item (or the slot) was taken meanwhile by a
///   `get_nowait` (`put_nowait`) it waits again, at the back of the line (the
///   `while self.empty(): await getter` loop; CPython's queues are not fair
///   against `_nowait` callers, and neither are these).
/// - A waiter cancelled at the moment it is woken passes the wake-up on to the
///   next waiter, so no item sits in the queue while a getter waits (and no
///   free slot while a putter waits). A `get` that throws CancelledError has
///   not taken an item: nothing is lost.
/// - `task_done()` after each processed item, `join()` waits until every item
///   put has been marked done; ValueError("task_done() called too many times").
/// - `shutdown(immediate=false)`: every waiting put/get wakes up and throws
///   QueueShutDown, as will every later `put`; `get` keeps returning the items
///   left and throws QueueShutDown once the queue is empty. With
///   `immediate=true` the items left are dropped (and counted as done for
///   `join()`), so `get` throws at once.
///
/// Differences from Python, on purpose: `maxsize` 0 means unbounded, as in
/// Python, but a negative maxsize is a ValueError here (Python treats it as
/// unbounded; DESIGN.md lists it as misuse). Items are C++ values: `T` may be
/// move-only; `get()` moves the item out; `put_nowait(std::move(x))` leaves `x`
/// untouched when it throws QueueFull or QueueShutDown.
///
/// `put()`, `get()` and `join()` are plain awaiters (no allocation): the waiter's
/// future lives in the waiting coroutine's frame.
///
/// Thread safety: one loop's tasks only (from another thread, go through
/// `loop.call_soon_threadsafe`). Like the locks, a queue binds to the loop of
/// its first waiting task. A queue must outlive the tasks waiting on it; if it
/// does not, they get RuntimeError at their `co_await`.
#include <cstddef>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/detail/waiters.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/locks.hpp"
#include "asyncio/repr.hpp"

namespace asyncio {
namespace detail {

class QueueCore;

/// The awaiter part shared by put and get: an entry plus the wake-up node that
/// re-checks the queue before resuming the task (TaskCore::wait_on(fut, wakeup)).
struct QueueWaiter : EntryAwaiter, DoneCallback {
  QueueCore* queue;
  bool is_put;
  /// Set by on_wake just before it runs the task's step when the entry was
  /// woken with a result (so wake_next passed it: it is linked and woken()),
  /// is not orphaned, and the task has no cancellation pending; nothing runs
  /// between that and await_resume.
  bool plain_wakeup = false;
  QueueWaiter(QueueCore* q, bool put) noexcept
      : DoneCallback(kOps), queue(q), is_put(put) {}
  QueueWaiter(QueueWaiter&& o) noexcept
      : EntryAwaiter(std::move(o)), DoneCallback(kOps), queue(o.queue),
        is_put(o.is_put) {}
  static void on_wake(Runnable* r);
  /// The queue is still empty (full): wait again at the back of the line,
  /// without resuming the task. Out of line: on_wake's common path is a jump
  /// to the task's step.
  [[gnu::noinline]] void wait_again();
  /// Runs on_wake; dropped, nothing (the node lives in the awaiting coroutine's frame).
  static const RunnableOps kOps;
};

/// The untyped part of a queue: sizes, waiters, unfinished tasks, shutdown.
///
/// Invariants: `size_` is the number of items stored; `getters_`/`putters_`
/// hold the waiters in arrival order; those before the list's wake-up cursor
/// were woken (or skipped, being cancelled) and stay linked until their task
/// runs, so that a queue destroyed under them can orphan them; those from the
/// cursor on are CPython's `_getters` and `_putters` (a woken waiter is popped
/// from them). `finished_` is set exactly when `unfinished_` is 0.
class QueueCore {
 public:
  QueueCore(const QueueCore&) = delete;
  QueueCore& operator=(const QueueCore&) = delete;

  /// Number of items in the queue.
  std::size_t qsize() const noexcept { return size_; }
  /// Number of items allowed in the queue (0: unbounded).
  std::size_t maxsize() const noexcept { return limit_ == kUnbounded ? 0 : limit_; }
  bool empty() const noexcept { return size_ == 0; }
  /// True when there are maxsize items (never for an unbounded queue).
  bool full() const noexcept { return size_ >= limit_; }
  /// True once shutdown() was called.
  bool is_shutdown() const noexcept { return shutdown_; }

  /// Marks one formerly got item as processed; wakes join() when none is left.
  /// ValueError("task_done() called too many times").
  void task_done() {
    if (unfinished_ == 0) [[unlikely]] throw_task_done();
    if (--unfinished_ == 0) finished_.set();
  }
  /// `co_await q.join()`: waits until every item put has been marked done.
  Event::WaitAwaiter join() noexcept { return finished_.wait(); }
  /// Items put and not yet marked done.
  std::size_t unfinished_tasks() const noexcept { return unfinished_; }

  /// Waiting getters and putters (not counting those woken and about to run).
  std::size_t getters() const noexcept { return getters_.waiting(); }
  std::size_t putters() const noexcept { return putters_.waiting(); }

 protected:
  explicit QueueCore(std::ptrdiff_t maxsize);
  ~QueueCore() = default;

  friend struct QueueWaiter;

  /// Wakes the first waiter of `waiters` that is not done (`_wakeup_next`);
  /// it stays linked until its task runs (a cancelled one too).
  static void wakeup_next(WaitList& waiters) noexcept { waiters.wake_next(); }
  /// After `put_nowait`: count the item and wake a getter.
  void after_put() noexcept {
    ++size_;
    ++unfinished_;
    finished_.clear();
    wakeup_next(getters_);
  }
  /// After `get_nowait`: wake a putter.
  void after_get() noexcept {
    --size_;
    wakeup_next(putters_);
  }
  /// A put/get waiter resumed: unlink it; on cancellation pass the wake-up on
  /// and rethrow (the `except:` clause of put/get).
  /// After a plain wake-up (on_wake saw no orphaning and no cancellation, and
  /// nothing ran since) only the unlink is left, and the entry needs no
  /// destructor (EntryAwaiter::forget_inert_entry).
  void finish_wait(QueueWaiter& w) {
    if (w.plain_wakeup) [[likely]] {
      WaitList::unlink_woken(&w.entry());
      w.forget_inert_entry();
    } else {
      finish_other_wait(w);
    }
  }
  /// finish_wait after any other wake-up: the orphan error, or the
  /// cancellation (passing the wake-up on), or a plain unlink.
  [[gnu::noinline]] void finish_other_wait(QueueWaiter& w);
  [[noreturn]] void cancelled_wait(QueueWaiter& w);
  /// shutdown(): the flag; with `immediate`, `dropped` items were removed
  /// and count as done; then every waiter is woken to re-check and raise.
  void shutdown_core(bool immediate, std::size_t dropped) noexcept;
  void print_core(std::ostream& os) const;
  [[noreturn]] static void throw_task_done();
  /// put_nowait on a queue shut down (QueueShutDown) or full (QueueFull).
  [[noreturn]] void throw_put_refused() const;
  /// get_nowait on an empty queue: QueueEmpty (QueueShutDown once shut down).
  [[noreturn]] void throw_empty() const;

  /// `limit_` for maxsize 0: full() is one comparison.
  static constexpr std::size_t kUnbounded = static_cast<std::size_t>(-1);
  std::size_t size_ = 0;
  std::size_t limit_;  // maxsize, or kUnbounded
  std::size_t unfinished_ = 0;
  bool shutdown_ = false;
  Event finished_;
  /// For the task dump: `<Queue maxsize=1 qsize=0 _getters[1]>` (items are the typed part's).
  static void print_owner(std::ostream& os, const void* self);
  WaitList getters_{"asyncio::Queue", "get", this, &QueueCore::print_owner};
  WaitList putters_{"asyncio::Queue", "put", this, &QueueCore::print_owner};
  LoopBinding binding_;
};


/// Storage policies (CPython's overridable `_init`, `_put`, `_get`).
///
/// FifoStore is CPython's `collections.deque` for `Queue`: a power-of-two ring
/// of `T` that grows (doubling, the items moved in order to the front of the
/// new buffer) and never shrinks, so a queue in a steady state puts and gets
/// without allocating, and a get is an index increment.
template <class T>
struct FifoStore {
  static constexpr const char* name = "Queue";
  static constexpr const char* qualified_name = "asyncio::Queue";

  FifoStore() noexcept = default;
  FifoStore(FifoStore&& o) noexcept
      : buf_(std::exchange(o.buf_, nullptr)), capacity_(std::exchange(o.capacity_, 0)),
        head_(std::exchange(o.head_, 0)), count_(std::exchange(o.count_, 0)) {}
  FifoStore& operator=(FifoStore&&) = delete;
  ~FifoStore() {
    clear();
    if (buf_ != nullptr) std::allocator<T>().deallocate(buf_, capacity_);
  }

  std::size_t size() const noexcept { return count_; }
  /// Slots allocated (0 until the first push; then a power of two).
  std::size_t capacity() const noexcept { return capacity_; }
  /// `_put`: appends `v`; unchanged if moving it in throws.
  void push(T&& v) {
    if (count_ == capacity_) [[unlikely]] grow();
    std::construct_at(buf_ + ((head_ + count_) & (capacity_ - 1)), std::move(v));
    ++count_;
  }
  /// `_get`: removes and returns the oldest item (the store is not empty).
  T pop() {
    T* slot = buf_ + head_;
    T v = std::move(*slot);
    std::destroy_at(slot);
    head_ = (head_ + 1) & (capacity_ - 1);
    --count_;
    return v;
  }
  void clear() noexcept {
    for (; count_ > 0; --count_) {
      std::destroy_at(buf_ + head_);
      head_ = (head_ + 1) & (capacity_ - 1);
    }
    head_ = 0;
  }
  /// Calls `f(item)` oldest first (the printed `_queue`).
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < count_; ++i) f(std::as_const(buf_[(head_ + i) & (capacity_ - 1)]));
  }

 private:
  /// Twice the slots (4 at first); the items move, oldest first, to slot 0.
  /// If moving (or copying, for a T whose move may throw) an item throws, the
  /// store is unchanged. Out of line: the hot push stays small.
  [[gnu::noinline]] void grow() {
    std::size_t capacity = capacity_ == 0 ? 4 : 2 * capacity_;
    std::allocator<T> alloc;
    T* buf = alloc.allocate(capacity);
    std::size_t moved = 0;
    try {
      for (; moved < count_; ++moved)
        std::construct_at(buf + moved, std::move_if_noexcept(buf_[(head_ + moved) & (capacity_ - 1)]));
    } catch (...) {
      std::destroy(buf, buf + moved);
      alloc.deallocate(buf, capacity);
      throw;
    }
    std::size_t count = count_;
    clear();
    if (buf_ != nullptr) alloc.deallocate(buf_, capacity_);
    buf_ = buf;
    capacity_ = capacity;
    head_ = 0;
    count_ = count;
  }

  T* buf_ = nullptr;
  std::size_t capacity_ = 0;  // 0 or a power of two
  std::size_t head_ = 0;      // the oldest item's slot
  std::size_t count_ = 0;
};

template <class T>
struct LifoStore {
  static constexpr const char* name = "LifoQueue";
  static constexpr const char* qualified_name = "asyncio::LifoQueue";
  std::vector<T> items;
  void push(T&& v) { items.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
  void clear() noexcept { items.clear(); }
  template <class F>
  void for_each(F&& f) const {
    for (const T& v : items) f(v);
  }
};

/// A binary min-heap on `Compare`, with the algorithm of Python's heapq
/// (heappush's _siftdown, heappop's bottom-up _siftup), so that the items, ties
/// included, come out in the same order as from asyncio.PriorityQueue and the
/// printed `_queue` is the same list.
template <class T, class Compare>
struct HeapStore {
  static constexpr const char* name = "PriorityQueue";
  static constexpr const char* qualified_name = "asyncio::PriorityQueue";
  std::vector<T> items;
  Compare less;
  explicit HeapStore(Compare c = Compare()) : less(std::move(c)) {}
  void push(T&& v) {
    items.push_back(std::move(v));
    sift_down(0, items.size() - 1);
  }
  T pop() {
    T last = std::move(items.back());
    items.pop_back();
    if (items.empty()) return last;
    T top = std::move(items.front());
    items.front() = std::move(last);
    sift_up(0);
    return top;
  }
  void clear() noexcept { items.clear(); }
  template <class F>
  void for_each(F&& f) const {
    for (const T& v : items) f(v);
  }

 private:
  // heapq._siftdown: moves the item at `pos` up towards `start`.
  void sift_down(std::size_t start, std::size_t pos) {
    T item = std::move(items[pos]);
    while (pos > start) {
      std::size_t parent = (pos - 1) >> 1;
      if (!less(item, items[parent])) break;
      items[pos] = std::move(items[parent]);
      pos = parent;
    }
    items[pos] = std::move(item);
  }
  // heapq._siftup: moves the smaller child up until a leaf, then sift_down.
  void sift_up(std::size_t pos) {
    std::size_t end = items.size(), start = pos;
    T item = std::move(items[pos]);
    std::size_t child = 2 * pos + 1;
    while (child < end) {
      std::size_t right = child + 1;
      if (right < end && !less(items[child], items[right])) child = right;
      items[pos] = std::move(items[child]);
      pos = child;
      child = 2 * pos + 1;
    }
    items[pos] = std::move(item);
    sift_down(start, pos);
  }
};

/// A queue of `T` stored by `Store`; see the file comment.
template <class T, class Store>
class BasicQueue : public QueueCore {
 public:
  using value_type = T;

  /// `maxsize` 0: unbounded. ValueError when negative.
  explicit BasicQueue(std::ptrdiff_t maxsize = 0, Store store = Store())
      : QueueCore(maxsize), store_(std::move(store)) {}

  // ---- put ----
  /// `co_await q.put(item)`: waits while the queue is full, then puts.
  /// QueueShutDown if the queue is (or gets) shut down; CancelledError if the
  /// task is cancelled while waiting (the item is then not put).
  struct [[nodiscard]] PutAwaiter : QueueWaiter {
    T item;
    PutAwaiter(BasicQueue* q, T&& v) : QueueWaiter(q, true), item(std::move(v)) {}
    BasicQueue& q() const noexcept { return *static_cast<BasicQueue*>(queue); }
    bool await_ready() const noexcept { return !q().full() || q().shutdown_; }
    [[gnu::always_inline]] void await_suspend(std::coroutine_handle<> h) {
      q().binding_.check(q());
      wait_in(q().putters_, h, this);
    }
    [[gnu::always_inline]] void await_resume() {
      if (task != nullptr) {
        q().finish_wait(*this);  // bound to this loop since the wait: no check_bound
        q().put_checked(std::move(item));
      } else {
        q().put_nowait(std::move(item));
      }
    }
  };
  PutAwaiter put(T item) { return PutAwaiter(this, std::move(item)); }

  /// Puts without waiting: QueueFull when full, QueueShutDown after shutdown();
  /// `item` is moved from only on success.
  void put_nowait(T&& item) {
    binding_.check_bound(*this);
    put_checked(std::move(item));
  }
  void put_nowait(const T& item)
    requires std::is_copy_constructible_v<T>
  {
    check_put();
    store_.push(T(item));
    after_put();
  }

  // ---- get ----
  /// `co_await q.get()`: waits while the queue is empty, then removes and
  /// returns the next item. QueueShutDown when the queue is shut down and
  /// empty; CancelledError if the task is cancelled while waiting.
  struct [[nodiscard]] GetAwaiter : QueueWaiter {
    explicit GetAwaiter(BasicQueue* q) noexcept : QueueWaiter(q, false) {}
    BasicQueue& q() const noexcept { return *static_cast<BasicQueue*>(queue); }
    bool await_ready() const noexcept { return !q().empty() || q().shutdown_; }
    [[gnu::always_inline]] void await_suspend(std::coroutine_handle<> h) {
      q().binding_.check(q());
      wait_in(q().getters_, h, this);
    }
    [[gnu::always_inline]] T await_resume() {
      if (task != nullptr) {
        q().finish_wait(*this);  // bound to this loop since the wait: no check_bound
        return q().get_checked();
      }
      return q().get_nowait();
    }
  };
  GetAwaiter get() noexcept { return GetAwaiter(this); }

  /// Removes and returns an item if one is there: QueueEmpty otherwise
  /// (QueueShutDown once shut down).
  T get_nowait() {
    binding_.check_bound(*this);
    return get_checked();
  }

  /// Shuts the queue down (3.13): see the file comment. With `immediate`,
  /// drops the items left and counts them as done.
  void shutdown(bool immediate = false) {
    binding_.check_bound(*this);
    std::size_t dropped = 0;
    if (immediate) {
      dropped = size_;
      store_.clear();
    }
    shutdown_core(immediate, dropped);
  }

  /// The name in a RuntimeError that cannot print the queue's state.
  static constexpr std::string_view primitive_name = Store::qualified_name;

  /// Python's `str(q)`: `<Queue maxsize=1 _queue=[1] _getters[1] tasks=1>`.
  friend std::ostream& operator<<(std::ostream& os, const BasicQueue& q) {
    os << '<' << Store::name << " maxsize=" << q.maxsize();
    if (q.size_ > 0) {
      os << " _queue=[";
      bool first = true;
      q.store_.for_each([&](const T& v) {
        if (!first) os << ", ";
        first = false;
        py_repr_to(os, v);
      });
      os << ']';
    }
    q.print_core(os);
    return os << '>';
  }

 private:
  void check_put() const {
    binding_.check_bound(*this);
    if (shutdown_ || full()) [[unlikely]] throw_put_refused();
  }
  /// put_nowait once the loop binding is known to be right.
  [[gnu::always_inline]] void put_checked(T&& item) {
    if (shutdown_ || full()) [[unlikely]] throw_put_refused();
    store_.push(std::move(item));
    after_put();
  }
  /// get_nowait once the loop binding is known to be right.
  [[gnu::always_inline]] T get_checked() {
    if (size_ == 0) [[unlikely]] throw_empty();
    T v = store_.pop();
    after_get();
    return v;
  }

  Store store_;
};

}  // namespace detail

/// A first in, first out queue (`asyncio.Queue`); see the file comment.
template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoStore<T>> {
 public:
  explicit Queue(std::ptrdiff_t maxsize = 0) : detail::BasicQueue<T, detail::FifoStore<T>>(maxsize) {}
};

/// A last in, first out queue (`asyncio.LifoQueue`): `get` returns the item
/// put most recently.
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::LifoStore<T>> {
 public:
  explicit LifoQueue(std::ptrdiff_t maxsize = 0)
      : detail::BasicQueue<T, detail::LifoStore<T>>(maxsize) {}
};

/// A priority queue (`asyncio.PriorityQueue`): `get` returns the lowest item
/// by `Compare` (a strict weak order, "less than"), as Python's heapq. Entries
/// are typically `std::pair<int, Data>` (priority, data); equal items come out
/// in no particular order.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, detail::HeapStore<T, Compare>> {
 public:
  explicit PriorityQueue(std::ptrdiff_t maxsize = 0, Compare less = Compare())
      : detail::BasicQueue<T, detail::HeapStore<T, Compare>>(
            maxsize, detail::HeapStore<T, Compare>(std::move(less))) {}
};

}  // namespace asyncio
