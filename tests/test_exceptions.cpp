// Exceptions: the hierarchy and Python-style reprs (exceptions.hpp).
#include "asyncio/exceptions.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

namespace {

struct MyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST(Exceptions, CancelledErrorIsNotCaughtAsAnOrdinaryError) {
  bool caught_as_error = false, caught_as_cancel = false;
  try {
    try {
      throw asyncio::CancelledError("stop");
    } catch (const std::exception&) {
      caught_as_error = true;
    }
  } catch (const asyncio::BaseException& e) {
    caught_as_cancel = true;
    EXPECT_STREQ(e.what(), "stop");
  }
  EXPECT_FALSE(caught_as_error);
  EXPECT_TRUE(caught_as_cancel);
}

TEST(Exceptions, ErrorsAreStandardExceptions) {
  EXPECT_THROW(throw asyncio::TimeoutError(), std::exception);
  EXPECT_THROW(throw asyncio::InvalidStateError("x"), std::logic_error);
  EXPECT_THROW(throw asyncio::RuntimeError("x"), std::runtime_error);
}

TEST(Exceptions, ReprsUsePythonNames) {
  auto repr = [](auto e) { return asyncio::exception_repr(std::make_exception_ptr(e)); };
  EXPECT_EQ(repr(std::runtime_error("Too big number")), "RuntimeError('Too big number')");
  EXPECT_EQ(repr(asyncio::TimeoutError()), "TimeoutError()");
  EXPECT_EQ(repr(asyncio::CancelledError()), "CancelledError()");
  EXPECT_EQ(repr(std::invalid_argument("it's")), "ValueError(\"it's\")");
  EXPECT_EQ(repr(MyError("mine")), "MyError('mine')");
  EXPECT_EQ(repr(42), "int()");
}

}  // namespace

// ---- the OSError family (Python's built-in exceptions) ------------------------
//
// Python twin:
//   for n in (111, 104, 32, 103, 2, 13, 1, 17, 3, 10, 4, 11, 110, 98):
//       e = OSError(n, os.strerror(n)); print(type(e).__name__, str(e))
//   print(str(FileNotFoundError(2, 'No such file or directory', 'x.txt')))
//   print(isinstance(TimeoutError(), OSError), repr(TimeoutError()), TimeoutError().errno)

TEST(OSError, TheErrnoPicksThePythonSubclass) {
  struct Case {
    int errnum;
    const char* type;
  };
  const Case cases[] = {{ECONNREFUSED, "ConnectionRefusedError"}, {ECONNRESET, "ConnectionResetError"},
                        {EPIPE, "BrokenPipeError"},             {ECONNABORTED, "ConnectionAbortedError"},
                        {ENOENT, "FileNotFoundError"},          {EACCES, "PermissionError"},
                        {EPERM, "PermissionError"},             {EEXIST, "FileExistsError"},
                        {ESRCH, "ProcessLookupError"},          {ECHILD, "ChildProcessError"},
                        {EINTR, "InterruptedError"},            {EAGAIN, "BlockingIOError"},
                        {ETIMEDOUT, "TimeoutError"},            {EADDRINUSE, "OSError"}};
  for (const auto& c : cases) {
    auto e = asyncio::os_error(c.errnum);
    EXPECT_EQ(asyncio::exception_type_name(e), c.type) << c.errnum;
    EXPECT_EQ(asyncio::exception_message(e), "[Errno " + std::to_string(c.errnum) + "] " + std::strerror(c.errnum));
  }
}

TEST(OSError, ConnectionErrorsAreCaughtByTheirBases) {
  EXPECT_THROW(asyncio::throw_os_error(ECONNRESET), asyncio::ConnectionResetError);
  EXPECT_THROW(asyncio::throw_os_error(ECONNRESET), asyncio::ConnectionError);
  EXPECT_THROW(asyncio::throw_os_error(EPIPE), asyncio::ConnectionError);
  EXPECT_THROW(asyncio::throw_os_error(ENOENT), asyncio::OSError);
  EXPECT_THROW(asyncio::throw_os_error(ENOENT), std::runtime_error);
  try {
    asyncio::throw_os_error(ENOENT, {}, "x.txt");
  } catch (const asyncio::FileNotFoundError& e) {
    EXPECT_EQ(e.errnum(), ENOENT);
    EXPECT_EQ(e.strerror(), "No such file or directory");
    EXPECT_EQ(e.filename(), "x.txt");
    EXPECT_STREQ(e.what(), "[Errno 2] No such file or directory: 'x.txt'");
  }
}

TEST(OSError, TimeoutErrorIsAnOSErrorWithoutErrnoAsInPython311) {
  asyncio::TimeoutError t;
  const asyncio::OSError& as_os = t;
  EXPECT_EQ(as_os.errnum(), 0);
  EXPECT_STREQ(t.what(), "");
  EXPECT_EQ(asyncio::exception_repr(std::make_exception_ptr(t)), "TimeoutError()");
  EXPECT_THROW(throw asyncio::TimeoutError(), asyncio::OSError);
  EXPECT_THROW(throw asyncio::TimeoutError(), std::runtime_error);
  EXPECT_EQ(asyncio::exception_repr(std::make_exception_ptr(asyncio::OSError("msg"))), "OSError('msg')");
}
