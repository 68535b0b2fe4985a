#pragma once
// The owner of one libuv handle (private to the library: it includes <uv.h>).
//
// libuv's lifetime rule: a handle's memory may be freed only in its close
// callback, which runs on a later loop iteration. `UvHandle` follows it: it
// allocates the handle in a small box; `close()` (or the destructor) calls
// uv_close and the box is freed by the close callback, whoever still points
// at it. One owner per handle, one close path.
//
// Callbacks reach the object that uses the handle (a transport, a server) with
// `UvHandle::user_of<T>(handle)`: null once the owner closed the handle, so a
// callback libuv delivers after uv_close (a write cancelled with ECANCELED)
// never touches a dead object.
//
// A loop closed while boxes are still open (a transport nobody closed) closes
// them through `close_leftover_handles`, called by EventLoop::close: each box's
// `on_leftover` hook runs (a transport drops its self-reference there), and in
// debug mode each is reported as asyncio reports an unclosed transport.
//
// Usage:
//   auto h = UvHandle::make("tcp");            // storage for any handle kind
//   uv_tcp_init(loop, h.tcp());                // then tell the box it is live:
//   h.initialized(this);                       // `this` is what callbacks get
//   ... uv_read_start(h.stream(), ...) ...
//   h.close();                                 // or let the destructor do it
#include <uv.h>

#include <cstdint>
#include <exception>
#include <string>
#include <utility>

namespace asyncio::detail {

class UvHandle {
 public:
  UvHandle() noexcept = default;
  /// Allocates storage for a handle of any kind; `kind` names it in reports.
  static UvHandle make(const char* kind);
  UvHandle(UvHandle&& o) noexcept;
  UvHandle& operator=(UvHandle&& o) noexcept;
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  ~UvHandle() { close(); }

  /// Call right after the successful uv_*_init: the handle is live (close()
  /// must uv_close it); `user` is what user_of() returns in callbacks;
  /// `on_leftover(user)` runs if the loop closes while the handle is open.
  void initialized(void* user, void (*on_leftover)(void*) = nullptr) noexcept;
  /// Changes what user_of() returns (null: callbacks are ignored).
  void set_user(void* user) noexcept;

  uv_handle_t* handle() const noexcept;
  uv_stream_t* stream() const noexcept { return reinterpret_cast<uv_stream_t*>(handle()); }
  uv_tcp_t* tcp() const noexcept { return reinterpret_cast<uv_tcp_t*>(handle()); }
  uv_pipe_t* pipe() const noexcept { return reinterpret_cast<uv_pipe_t*>(handle()); }
  uv_udp_t* udp() const noexcept { return reinterpret_cast<uv_udp_t*>(handle()); }
  uv_timer_t* timer() const noexcept { return reinterpret_cast<uv_timer_t*>(handle()); }
  uv_poll_t* poll() const noexcept { return reinterpret_cast<uv_poll_t*>(handle()); }
  uv_process_t* process() const noexcept { return reinterpret_cast<uv_process_t*>(handle()); }
  uv_signal_t* signal() const noexcept { return reinterpret_cast<uv_signal_t*>(handle()); }

  /// True while this owner holds a box (open or not yet initialised).
  explicit operator bool() const noexcept { return box_ != nullptr; }
  /// Closes the handle (uv_close; the memory goes in the close callback) and
  /// detaches: callbacks see user_of() == null from now on. Idempotent.
  void close() noexcept;

  /// The user registered for the handle `h` (any uv handle type), or null.
  template <class T, class H>
  static T* user_of(const H* h) noexcept {
    return static_cast<T*>(user_of_handle(reinterpret_cast<const uv_handle_t*>(h)));
  }

  struct Box;

 private:
  static void* user_of_handle(const uv_handle_t* h) noexcept;  // inline below: every callback calls it
  friend void close_leftover_handles(uv_loop_t* loop, bool debug) noexcept;
  Box* box_ = nullptr;
};

/// What a UvHandle allocates: the handle, then what its callbacks need.
struct UvHandle::Box {
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_udp_t udp;
    uv_timer_t timer;
    uv_poll_t poll;
    uv_process_t process;
    uv_signal_t signal;
  } u;
  static constexpr std::uint32_t kMagic = 0x41494f48;  // "AIOH": a box of ours
  std::uint32_t magic = kMagic;
  UvHandle* owner = nullptr;
  void* user = nullptr;
  void (*on_leftover)(void*) = nullptr;
  const char* kind = "handle";
  bool live = false;  // uv_*_init succeeded: must be uv_closed
};

inline void* UvHandle::user_of_handle(const uv_handle_t* h) noexcept {
  auto* b = static_cast<const Box*>(h->data);
  return b != nullptr && b->magic == Box::kMagic ? b->user : nullptr;
}

/// EventLoop::close: closes the boxes still open on `loop` (see the file comment).
void close_leftover_handles(uv_loop_t* loop, bool debug) noexcept;

/// A libuv error code (negative errno, or UV_EAI_*) as the OSError Python
/// raises; `message` replaces the system text when not empty.
std::exception_ptr uv_error(int status, std::string message = {}, std::string filename = {});

}  // namespace asyncio::detail
