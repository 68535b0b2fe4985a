// Python-style names and reprs of exceptions (for reprs, handlers, examples).
#include "asyncio/exceptions.hpp"
#include "asyncio/repr.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <typeinfo>

namespace asyncio {

std::string detail::demangle(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                             std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(type.name());
}

namespace {

std::string unqualified(std::string name) {
  auto pos = name.rfind("::");
  return pos == std::string::npos ? name : name.substr(pos + 2);
}

}  // namespace

bool detail::is_cancelled_error(const std::exception_ptr& e) noexcept { return holds<CancelledError>(e); }

std::string exception_type_name(const std::exception_ptr& e) {
  if (!e) return "None";
  try {
    std::rethrow_exception(e);
  } catch (const CancelledError&) {
    return "CancelledError";
  } catch (const KeyboardInterrupt&) {
    return "KeyboardInterrupt";
  } catch (const BaseException& x) {
    return unqualified(detail::demangle(typeid(x)));  // "SystemExit", a user's "Exit"
  } catch (const TimeoutError&) {
    return "TimeoutError";
  } catch (const InvalidStateError&) {
    return "InvalidStateError";
  } catch (const TypeError&) {
    return "TypeError";
  } catch (const KeyError&) {
    return "KeyError";
  } catch (const ZeroDivisionError&) {
    return "ZeroDivisionError";
  } catch (const std::invalid_argument&) {
    return "ValueError";
  } catch (const std::domain_error&) {
    return "ValueError";
  } catch (const std::out_of_range&) {
    return "IndexError";
  } catch (const std::overflow_error&) {
    return "OverflowError";
  } catch (const std::bad_alloc&) {
    return "MemoryError";
  } catch (const std::exception& x) {
    const std::type_info& t = typeid(x);
    if (t == typeid(std::runtime_error) || t == typeid(RuntimeError)) return "RuntimeError";
    if (t == typeid(std::logic_error)) return "Exception";
    if (t == typeid(std::exception)) return "Exception";
    // A user type: its own name, without namespaces ("MyError").
    return unqualified(detail::demangle(t));
  } catch (...) {
    std::type_info* t = abi::__cxa_current_exception_type();
    return t ? detail::demangle(*t) : "<unknown exception>";
  }
}

std::string exception_message(const std::exception_ptr& e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const BaseException& x) {
    return x.what();
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return {};
  }
}

namespace {
// Whether `e` was built with an argument: BaseExceptions know (`E()` vs `E('')`);
// a std::exception always has a message, printed only when not empty.
bool has_args(const std::exception_ptr& e, const std::string& msg) {
  try {
    std::rethrow_exception(e);
  } catch (const BaseException& x) {
    return x.has_args();
  } catch (...) {
    return !msg.empty();
  }
}
}  // namespace

std::string exception_repr(const std::exception_ptr& e) {
  std::string msg = exception_message(e);
  try {
    std::rethrow_exception(e);
  } catch (const KeyError&) {
    return "KeyError(" + msg + ")";  // its message is already the key's repr
  } catch (...) {
  }
  return exception_type_name(e) + "(" + (has_args(e, msg) ? detail::py_str_repr(msg) : std::string()) + ")";
}

}  // namespace asyncio
