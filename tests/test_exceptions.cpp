// Exceptions: the hierarchy and Python-style reprs (exceptions.hpp).
#include "asyncio/exceptions.hpp"

#include <gtest/gtest.h>

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
