// The umbrella header includes every public header (STYLE.md, convention 1).
#include "asyncio/asyncio.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

TEST(Umbrella, IncludesEveryPublicHeader) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(ASYNCIO_SOURCE_DIR) / "include" / "asyncio";
  std::ifstream f(dir / "asyncio.hpp");
  std::stringstream umbrella;
  umbrella << f.rdbuf();
  int headers = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    auto name = entry.path().filename().string();
    if (!entry.is_regular_file() || name == "asyncio.hpp" || entry.path().extension() != ".hpp") continue;
    ++headers;
    EXPECT_NE(umbrella.str().find("#include \"asyncio/" + name + "\""), std::string::npos)
        << "asyncio.hpp does not include " << name;
  }
  EXPECT_GE(headers, 7);
}
