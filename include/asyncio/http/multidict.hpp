#pragma once
/// \file http/multidict.hpp
/// `CIMultiDict`: HTTP headers, a case-insensitive multimap keeping insertion
/// order (the `multidict.CIMultiDict` that aiohttp uses for headers).
///
/// ```cpp
/// CIMultiDict h{{"Content-Type", "text/html"}, {"Set-Cookie", "a=1"}};
/// h.add("set-cookie", "b=2");
/// h.at("content-type");          // "text/html"      Python: h['content-type']
/// h.get("X-Missing");            // std::nullopt     Python: h.get('X-Missing')
/// h.getall("Set-Cookie");        // {"a=1", "b=2"}   Python: h.getall('Set-Cookie')
/// "CONTENT-TYPE" in h            // h.contains("CONTENT-TYPE")
/// ```
///
/// Keys keep the case they were added with (iteration shows them); lookups
/// compare ASCII case-insensitively. `at()` of a missing key throws
/// `std::out_of_range` naming the key (Python's KeyError). Prints as
/// `<CIMultiDict('Key': 'value', ...)>`.
///
/// Thread safety: a plain value.
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asyncio::http {

/// ASCII case-insensitive equality (header names, charset names).
bool iequals(std::string_view a, std::string_view b) noexcept;
/// `s` with ASCII letters lower-cased (scheme, media type and charset names).
std::string ascii_lower(std::string s);

class CIMultiDict {
 public:
  using value_type = std::pair<std::string, std::string>;
  using const_iterator = std::vector<value_type>::const_iterator;

  CIMultiDict() = default;
  CIMultiDict(std::initializer_list<value_type> items) : items_(items) {}

  /// Appends a value (`md.add(key, value)`), keeping any existing ones.
  void add(std::string key, std::string value) { items_.emplace_back(std::move(key), std::move(value)); }
  /// Replaces every value of `key` by `value` (`md[key] = value`).
  void set(std::string key, std::string value);
  /// The first value of `key`; std::out_of_range("'key'") when absent (`md[key]`).
  const std::string& at(std::string_view key) const;
  /// The first value of `key`, or nullopt (`md.get(key)`).
  std::optional<std::string> get(std::string_view key) const;
  /// Every value of `key`, in order (`md.getall(key, [])`).
  std::vector<std::string> getall(std::string_view key) const;
  /// `key in md`.
  bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
  /// Removes every value of `key`; returns how many (`del md[key]`, without the KeyError).
  std::size_t erase(std::string_view key);
  /// Adds the items of `other` whose keys are not in this dict (header defaults).
  void merge_missing(const CIMultiDict& other);

  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  void clear() noexcept { items_.clear(); }
  const_iterator begin() const noexcept { return items_.begin(); }
  const_iterator end() const noexcept { return items_.end(); }

  friend std::ostream& operator<<(std::ostream& os, const CIMultiDict& md);

 private:
  const std::string* find(std::string_view key) const noexcept;
  std::vector<value_type> items_;
};

}  // namespace asyncio::http
