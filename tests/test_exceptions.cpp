// Exceptions: the hierarchy and Python-style reprs (exceptions.hpp).
#include "asyncio/exceptions.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include "asyncio/repr.hpp"

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

// Python (3.11-3.13):
//   repr(BaseException()), repr(BaseException(''))  -> BaseException() BaseException('')
//   BaseException().args, BaseException('').args    -> () ('',)
//   repr(asyncio.CancelledError()), repr(asyncio.CancelledError(''))  -> CancelledError() CancelledError('')
//   repr(TypeError('t')), repr(KeyError('k')), str(KeyError('k'))     -> TypeError('t') KeyError('k') 'k'
//   1/0 -> ZeroDivisionError('division by zero')
//   repr(SystemExit('bye')), repr(KeyboardInterrupt())  -> SystemExit('bye') KeyboardInterrupt()
TEST(Exceptions, AnEmptyMessageIsToldApartFromNoMessageAndTheBuiltinsHaveTheirNames) {
  auto repr = [](auto e) { return asyncio::exception_repr(std::make_exception_ptr(e)); };
  EXPECT_EQ(repr(asyncio::CancelledError()), "CancelledError()");
  EXPECT_EQ(repr(asyncio::CancelledError("")), "CancelledError('')");
  EXPECT_FALSE(asyncio::CancelledError().has_args());
  EXPECT_TRUE(asyncio::CancelledError("").has_args());
  EXPECT_EQ(repr(asyncio::TypeError("t")), "TypeError('t')");
  asyncio::KeyError k(asyncio::py_repr("k"));
  EXPECT_EQ(repr(k), "KeyError('k')");
  EXPECT_STREQ(k.what(), "'k'");
  EXPECT_EQ(repr(asyncio::ZeroDivisionError()), "ZeroDivisionError('division by zero')");
  EXPECT_EQ(repr(asyncio::SystemExit("bye")), "SystemExit('bye')");
  EXPECT_EQ(repr(asyncio::KeyboardInterrupt()), "KeyboardInterrupt()");
}

// Python: none of TypeError, KeyError, ZeroDivisionError is a ValueError.
TEST(Exceptions, TypeKeyAndZeroDivisionErrorsAreNotValueErrors) {
  auto is_value_error = [](auto e) {
    try {
      throw e;
    } catch (const asyncio::ValueError&) {
      return true;
    } catch (const std::exception&) {
      return false;
    }
  };
  EXPECT_FALSE(is_value_error(asyncio::TypeError("t")));
  EXPECT_FALSE(is_value_error(asyncio::KeyError("'k'")));
  EXPECT_FALSE(is_value_error(asyncio::ZeroDivisionError()));
  EXPECT_TRUE(is_value_error(asyncio::ValueError("v")));
}

// Python (3.11-3.13):
//   print(repr("it's"), repr(True), repr(None), repr(0.1), repr(1.0), repr(1e16), repr(1e15),
//         repr(1e-5), repr(0.0001), repr(-2.5), repr(float('inf')), repr(123456789.125))
//   print(repr([1, 'a', None]), repr((1,)), repr((1, 'b')), repr({'a': 1, 'b': [2.0]}))
// prints
//   "it's" True None 0.1 1.0 1e+16 1000000000000000.0 1e-05 0.0001 -2.5 inf 123456789.125
//   [1, 'a', None] (1,) (1, 'b') {'a': 1, 'b': [2.0]}
TEST(PyRepr, PrintsValuesAsPythonsRepr) {
  using asyncio::py_repr;
  std::string line1 = py_repr("it's") + " " + py_repr(true) + " " + py_repr(std::nullopt) + " " + py_repr(0.1) +
                      " " + py_repr(1.0) + " " + py_repr(1e16) + " " + py_repr(1e15) + " " + py_repr(1e-5) + " " +
                      py_repr(0.0001) + " " + py_repr(-2.5) + " " + py_repr(std::numeric_limits<double>::infinity()) +
                      " " + py_repr(123456789.125);
  EXPECT_EQ(line1, "\"it's\" True None 0.1 1.0 1e+16 1000000000000000.0 1e-05 0.0001 -2.5 inf 123456789.125");
  std::vector<std::optional<int>> list{1, std::nullopt};
  std::map<std::string, std::vector<double>> dict{{"a", {1}}, {"b", {2.0}}};
  std::string line2 = py_repr(list) + " " + py_repr(std::tuple<int>{1}) + " " + py_repr(std::pair<int, std::string>{1, "b"}) +
                      " " + py_repr(dict);
  EXPECT_EQ(line2, "[1, None] (1,) (1, 'b') {'a': [1.0], 'b': [2.0]}");
  EXPECT_EQ(py_repr(std::make_exception_ptr(asyncio::ValueError("bad"))), "ValueError('bad')");
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
