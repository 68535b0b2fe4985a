// The umbrella header includes every public header (STYLE.md, convention 1) but the opt-in
// ones, and with them it brings in neither GMP nor cereal (issue 10).
#include "asyncio/asyncio.hpp"

#if defined(__GMP_PLUSPLUS__) || defined(CEREAL_CEREAL_HPP_)
#error "asyncio.hpp must not include gmpxx.h or cereal (process_pool.hpp and serialize_gmp.hpp are opt-in)"
#endif

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

TEST(Umbrella, IncludesEveryPublicHeaderButTheOptInOnes) {
  namespace fs = std::filesystem;
  // process_pool.hpp needs cereal, serialize_gmp.hpp GMP; executors.hpp gathers the executor
  // headers, process_pool.hpp included; trace.hpp only forwards to the internal detail/trace.hpp.
  const std::set<std::string> opt_in = {"process_pool.hpp", "serialize_gmp.hpp", "executors.hpp",
                                        "trace.hpp"};
  fs::path dir = fs::path(ASYNCIO_SOURCE_DIR) / "include" / "asyncio";
  std::ifstream f(dir / "asyncio.hpp");
  std::stringstream umbrella;
  umbrella << f.rdbuf();
  int headers = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    auto name = entry.path().filename().string();
    if (!entry.is_regular_file() || name == "asyncio.hpp" || entry.path().extension() != ".hpp") continue;
    ++headers;
    bool included = umbrella.str().find("#include \"asyncio/" + name + "\"") != std::string::npos;
    EXPECT_EQ(included, !opt_in.contains(name))
        << "asyncio.hpp " << (included ? "includes the opt-in " : "does not include ") << name;
  }
  EXPECT_GE(headers, 7);
}
