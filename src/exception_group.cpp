// ExceptionGroup (Python's builtin BaseExceptionGroup.split and its str/repr).
#include <ostream>
#include <stdexcept>

#include "asyncio/exception_group.hpp"
#include "asyncio/repr.hpp"

namespace asyncio {
namespace {

const ExceptionGroup* as_group(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const ExceptionGroup& g) {
    return &g;  // the exception object lives as long as `e`
  } catch (...) {
    return nullptr;
  }
}

// Whether `e` is an Exception in Python's sense: a std::exception, or a group
// of only such (else Python's group is a BaseExceptionGroup).
bool is_plain_exception(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const ExceptionGroup& g) {
    for (const auto& x : g.exceptions()) {
      if (!is_plain_exception(x)) return false;
    }
    return true;
  } catch (const std::exception&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

ExceptionGroup::ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
    : message_(std::move(message)), exceptions_(std::move(exceptions)) {
  if (exceptions_.empty()) throw ValueError("second argument (exceptions) must be a non-empty sequence");
  for (std::size_t i = 0; i < exceptions_.size(); ++i) {
    if (!exceptions_[i])
      throw ValueError("Item " + std::to_string(i) + " of second argument (exceptions) is not an exception");
  }
  update_what();
}

void ExceptionGroup::update_what() {
  std::size_t n = exceptions_.size();
  what_ = message_ + " (" + std::to_string(n) + (n == 1 ? " sub-exception)" : " sub-exceptions)");
}

std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> ExceptionGroup::split_if(
    Predicate pred) const {
  std::vector<std::exception_ptr> match;
  std::vector<std::exception_ptr> rest;
  for (const auto& e : exceptions_) {
    if (pred(e)) {
      match.push_back(e);
    } else if (const ExceptionGroup* g = as_group(e)) {
      auto [m, r] = g->split_if(pred);
      if (m) match.push_back(std::make_exception_ptr(std::move(*m)));
      if (r) rest.push_back(std::make_exception_ptr(std::move(*r)));
    } else {
      rest.push_back(e);
    }
  }
  std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> out;
  if (!match.empty()) out.first.emplace(message_, std::move(match));
  if (!rest.empty()) out.second.emplace(message_, std::move(rest));
  return out;
}

std::vector<std::exception_ptr> ExceptionGroup::leaves() const {
  std::vector<std::exception_ptr> out;
  for (const auto& e : exceptions_) {
    if (const ExceptionGroup* g = as_group(e)) {
      auto sub = g->leaves();
      out.insert(out.end(), sub.begin(), sub.end());
    } else {
      out.push_back(e);
    }
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const ExceptionGroup& eg) {
  bool base = false;  // Python: a BaseExceptionGroup when a member is no Exception
  for (const auto& e : eg.exceptions()) base = base || !is_plain_exception(e);
  os << (base ? "BaseExceptionGroup(" : "ExceptionGroup(") << detail::py_str_repr(eg.message()) << ", [";
  const char* sep = "";
  for (const auto& e : eg.exceptions()) {
    os << sep;
    if (const ExceptionGroup* g = as_group(e)) {
      os << *g;
    } else {
      os << exception_repr(e);
    }
    sep = ", ";
  }
  return os << "])";
}

}  // namespace asyncio
