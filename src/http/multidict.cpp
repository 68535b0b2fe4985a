// CIMultiDict: case-insensitive headers (multidict.CIMultiDict).
#include "asyncio/http/multidict.hpp"
#include "asyncio/repr.hpp"

#include <algorithm>
#include <stdexcept>

#include "asyncio/exceptions.hpp"

namespace asyncio::http {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

const std::string* CIMultiDict::find(std::string_view key) const noexcept {
  for (const auto& [k, v] : items_)
    if (iequals(k, key)) return &v;
  return nullptr;
}

void CIMultiDict::set(std::string key, std::string value) {
  erase(key);
  add(std::move(key), std::move(value));
}

const std::string& CIMultiDict::at(std::string_view key) const {
  if (const std::string* v = find(key)) return *v;
  throw std::out_of_range(detail::py_str_repr(std::string(key)));  // Python: KeyError('key')
}

std::optional<std::string> CIMultiDict::get(std::string_view key) const {
  if (const std::string* v = find(key)) return *v;
  return std::nullopt;
}

std::vector<std::string> CIMultiDict::getall(std::string_view key) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : items_)
    if (iequals(k, key)) out.push_back(v);
  return out;
}

std::size_t CIMultiDict::erase(std::string_view key) {
  auto before = items_.size();
  items_.erase(std::remove_if(items_.begin(), items_.end(), [&](const value_type& kv) { return iequals(kv.first, key); }),
               items_.end());
  return before - items_.size();
}

void CIMultiDict::merge_missing(const CIMultiDict& other) {
  std::vector<value_type> extra;
  for (const auto& kv : other.items_)
    if (!contains(kv.first)) extra.push_back(kv);
  items_.insert(items_.end(), extra.begin(), extra.end());
}

std::ostream& operator<<(std::ostream& os, const CIMultiDict& md) {
  os << "<CIMultiDict(";
  bool first = true;
  for (const auto& [k, v] : md.items_) {
    os << (first ? "" : ", ") << detail::py_str_repr(k) << ": " << detail::py_str_repr(v);
    first = false;
  }
  return os << ")>";
}

}  // namespace asyncio::http
