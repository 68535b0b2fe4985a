// Must NOT compile: gather(c, c) with a Coro named by an lvalue. CTest checks
// that the compiler's one-line message tells what to write instead
// (test `compile_fail_gather_lvalue_coro`, CMakeLists.txt).
#include "asyncio/tasks.hpp"
#include "asyncio/tasks_combinators.hpp"

asyncio::Coro<int> one() { co_return 1; }

asyncio::Coro<void> main_() {
  auto c = one();
  auto d = one();
  co_await asyncio::gather(c, d);
}
