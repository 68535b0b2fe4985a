#pragma once
/// \file detail/ref.hpp
/// The one counted-reference holder behind the public handles (Handle,
/// Future, AnyTask/Task, GatheringFuture). Not public API.
#include <compare>
#include <functional>
#include <utility>

namespace asyncio::detail {

/// An intrusive reference to a `T` with `add_ref()` and `release()` noexcept
/// (`release` frees the object with the last reference). Copying takes a
/// reference, moving steals one, destruction releases it.
template <class T>
class Ref {
 public:
  constexpr Ref() noexcept = default;
  /// Takes over a reference the caller already holds.
  static Ref adopt(T* p) noexcept {
    Ref r;
    r.p_ = p;
    return r;
  }
  /// Takes a new reference to `p` (may be null).
  static Ref share(T* p) noexcept {
    if (p != nullptr) p->add_ref();
    return adopt(p);
  }
  Ref(const Ref& o) noexcept : p_(o.p_) {
    if (p_ != nullptr) p_->add_ref();
  }
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Ref& operator=(Ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~Ref() {
    if (p_ != nullptr) p_->release();
  }
  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  /// Gives the reference up to the caller.
  T* detach() noexcept { return std::exchange(p_, nullptr); }
  friend bool operator==(const Ref& a, const Ref& b) noexcept { return a.p_ == b.p_; }
  friend std::strong_ordering operator<=>(const Ref& a, const Ref& b) noexcept {
    return std::compare_three_way{}(a.p_, b.p_);
  }

 private:
  T* p_ = nullptr;
};

}  // namespace asyncio::detail
