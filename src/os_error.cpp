// Python's OSError family: str(exc) and the errno -> subclass mapping
// (CPython Objects/exceptions.c, `errnomap`).
#include <cerrno>
#include <cstring>

#include "asyncio/exceptions.hpp"
#include "asyncio/repr.hpp"

namespace asyncio {

std::string OSError::format(int errnum, const std::string& strerror, const std::string& filename) {
  // OSError.__str__: "[Errno N] strerror" or "[Errno N] strerror: 'filename'".
  std::string s = "[Errno " + std::to_string(errnum) + "] " + strerror;
  if (!filename.empty()) s += ": " + detail::py_str_repr(filename);
  return s;
}

IncompleteReadError::IncompleteReadError(std::string partial_, std::optional<std::size_t> expected_)
    : std::runtime_error(std::to_string(partial_.size()) + " bytes read on a total of " +
                         (expected_ ? std::to_string(*expected_) : std::string("undefined")) +
                         " expected bytes"),
      partial(std::move(partial_)),
      expected(expected_) {}

namespace {

template <class E>
std::exception_ptr make(int errnum, std::string strerror, std::string filename) {
  return std::make_exception_ptr(E(errnum, std::move(strerror), std::move(filename)));
}

}  // namespace

std::exception_ptr os_error(int errnum, std::string strerror, std::string filename) {
  if (strerror.empty()) strerror = std::strerror(errnum);
  auto s = std::move(strerror);
  auto f = std::move(filename);
  switch (errnum) {
    case EPIPE:
    case ESHUTDOWN:
      return make<BrokenPipeError>(errnum, std::move(s), std::move(f));
    case ECONNABORTED:
      return make<ConnectionAbortedError>(errnum, std::move(s), std::move(f));
    case ECONNREFUSED:
      return make<ConnectionRefusedError>(errnum, std::move(s), std::move(f));
    case ECONNRESET:
      return make<ConnectionResetError>(errnum, std::move(s), std::move(f));
    case EEXIST:
      return make<FileExistsError>(errnum, std::move(s), std::move(f));
    case ENOENT:
      return make<FileNotFoundError>(errnum, std::move(s), std::move(f));
    case EISDIR:
      return make<IsADirectoryError>(errnum, std::move(s), std::move(f));
    case ENOTDIR:
      return make<NotADirectoryError>(errnum, std::move(s), std::move(f));
    case EACCES:
    case EPERM:
      return make<PermissionError>(errnum, std::move(s), std::move(f));
    case ESRCH:
      return make<ProcessLookupError>(errnum, std::move(s), std::move(f));
    case ECHILD:
      return make<ChildProcessError>(errnum, std::move(s), std::move(f));
    case EINTR:
      return make<InterruptedError>(errnum, std::move(s), std::move(f));
    case EAGAIN:  // == EWOULDBLOCK on Linux
    case EALREADY:
    case EINPROGRESS:
      return make<BlockingIOError>(errnum, std::move(s), std::move(f));
    case ETIMEDOUT:
      return make<TimeoutError>(errnum, std::move(s), std::move(f));
    default:
      return make<OSError>(errnum, std::move(s), std::move(f));
  }
}

void throw_os_error(int errnum, std::string strerror, std::string filename) {
  std::rethrow_exception(os_error(errnum, std::move(strerror), std::move(filename)));
}

}  // namespace asyncio
