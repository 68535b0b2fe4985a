// UvHandle: one owner per libuv handle, memory freed in the close callback.
#include "uv_handle.hpp"

#include <netdb.h>

#include <atomic>
#include <cstdio>
#include <cstdint>
#include <string>

#include "asyncio/transports.hpp"

#include "asyncio/exceptions.hpp"

namespace asyncio::detail {

namespace {

std::atomic<std::size_t> g_boxes_alive{0};  // a counter for tests (loops may run on several threads)

void free_box(uv_handle_t* h) {
  delete static_cast<UvHandle::Box*>(h->data);
  --g_boxes_alive;
}

UvHandle::Box* box_of(const uv_handle_t* h) noexcept {
  auto* b = static_cast<UvHandle::Box*>(h->data);
  return b != nullptr && b->magic == UvHandle::Box::kMagic ? b : nullptr;
}

}  // namespace

UvHandle UvHandle::make(const char* kind) {
  UvHandle h;
  h.box_ = new Box{};
  ++g_boxes_alive;
  h.box_->kind = kind;
  h.box_->owner = &h;  // fixed by the move below (make returns by move/NRVO)
  return h;
}

UvHandle::UvHandle(UvHandle&& o) noexcept : box_(std::exchange(o.box_, nullptr)) {
  if (box_ != nullptr) box_->owner = this;
}

UvHandle& UvHandle::operator=(UvHandle&& o) noexcept {
  if (this != &o) {
    close();
    box_ = std::exchange(o.box_, nullptr);
    if (box_ != nullptr) box_->owner = this;
  }
  return *this;
}

void UvHandle::initialized(void* user, void (*on_leftover)(void*)) noexcept {
  box_->owner = this;
  box_->user = user;
  box_->on_leftover = on_leftover;
  box_->live = true;
  box_->u.handle.data = box_;
}

void UvHandle::set_user(void* user) noexcept {
  if (box_ != nullptr) box_->user = user;
}

uv_handle_t* UvHandle::handle() const noexcept { return box_ != nullptr ? &box_->u.handle : nullptr; }

void UvHandle::close() noexcept {
  Box* b = std::exchange(box_, nullptr);
  if (b == nullptr) return;
  b->owner = nullptr;
  b->user = nullptr;
  if (b->live) {
    uv_close(&b->u.handle, free_box);
  } else {
    delete b;  // never initialised: libuv does not know it
    --g_boxes_alive;
  }
}

void close_leftover_handles(uv_loop_t* loop, bool debug) noexcept {
  struct Ctx {
    bool debug;
  } ctx{debug};
  uv_walk(
      loop,
      [](uv_handle_t* h, void* arg) {
        if (uv_is_closing(h)) return;
        UvHandle::Box* b = box_of(h);
        if (b == nullptr || b->owner == nullptr) return;
        if (static_cast<Ctx*>(arg)->debug) {
          std::fprintf(stderr, "asyncio: unclosed %s handle at loop close\n", b->kind);
          std::fflush(stderr);
        }
        void* user = b->user;
        auto hook = b->on_leftover;
        b->owner->close();  // detaches the owner (it may outlive the loop) and uv_closes
        if (hook != nullptr && user != nullptr) hook(user);
      },
      &ctx);
}

std::size_t uv_handles_alive() noexcept { return g_boxes_alive; }

std::exception_ptr uv_error(int status, std::string message, std::string filename) {
  if (status <= UV_EAI_ADDRFAMILY && status >= UV_EAI_PROTOCOL) {
    // getaddrinfo errors: socket.gaierror(EAI_*, gai_strerror) as Python.
    int eai = 0;
    switch (status) {
      case UV_EAI_NONAME: eai = EAI_NONAME; break;
      case UV_EAI_AGAIN: eai = EAI_AGAIN; break;
      case UV_EAI_FAIL: eai = EAI_FAIL; break;
      case UV_EAI_FAMILY: eai = EAI_FAMILY; break;
      case UV_EAI_SERVICE: eai = EAI_SERVICE; break;
      case UV_EAI_SOCKTYPE: eai = EAI_SOCKTYPE; break;
      case UV_EAI_MEMORY: eai = EAI_MEMORY; break;
      case UV_EAI_BADFLAGS: eai = EAI_BADFLAGS; break;
      case UV_EAI_OVERFLOW: eai = EAI_OVERFLOW; break;
      case UV_EAI_ADDRFAMILY: eai = EAI_ADDRFAMILY; break;
      case UV_EAI_CANCELED: eai = EAI_CANCELED; break;
#ifdef EAI_NODATA
      case UV_EAI_NODATA: eai = EAI_NODATA; break;
#endif
      default: eai = EAI_FAIL; break;
    }
    if (message.empty()) message = gai_strerror(eai);
    return std::make_exception_ptr(gaierror(eai, std::move(message), std::move(filename)));
  }
  return os_error(-status, std::move(message), std::move(filename));
}

}  // namespace asyncio::detail
