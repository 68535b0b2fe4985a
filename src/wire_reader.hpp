#pragma once
// Reading the pools' wire messages (the process pool's frames, MpiPoolExecutor's messages):
// fixed-size fields in host order and u32-length-prefixed strings.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace asyncio::detail {

class WireReader {
 public:
  /// `owner` names the pool in the error a truncated message throws.
  WireReader(std::string_view body, const char* owner) : rest_(body), owner_(owner) {}

  template <class T>
  T get() {
    T value{};
    if (rest_.size() < sizeof value) truncated();
    std::memcpy(&value, rest_.data(), sizeof value);
    rest_.remove_prefix(sizeof value);
    return value;
  }
  std::string_view get_string() {
    auto n = get<std::uint32_t>();
    if (rest_.size() < n) truncated();
    auto s = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return s;
  }
  /// What has not been read.
  std::string_view rest() const noexcept { return rest_; }

 private:
  [[noreturn]] void truncated() const {
    throw std::runtime_error(std::string(owner_) + ": truncated message");
  }

  std::string_view rest_;
  const char* owner_;
};

}  // namespace asyncio::detail
