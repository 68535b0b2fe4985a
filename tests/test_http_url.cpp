// urlparse / urljoin (http/url.hpp) against CPython's urllib.parse on the
// table tests/data/url_cases.json, written by tests/data/url_cases.py.
#include "asyncio/http/url.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "asyncio/exceptions.hpp"

namespace http = asyncio::http;

namespace {

nlohmann::json cases() {
  std::ifstream f(std::string(ASYNCIO_SOURCE_DIR) + "/tests/data/url_cases.json");
  return nlohmann::json::parse(f);
}

TEST(Urlparse, SplitsEveryUrlOfTheTableAsPythonDoes) {
  auto table = cases()["urlparse"];
  ASSERT_GE(table.size(), 20u);
  for (const auto& row : table) {
    std::string url = row["url"];
    SCOPED_TRACE(url);
    http::ParseResult p = http::urlparse(url);
    http::ParseResult expected{row["parts"][0], row["parts"][1], row["parts"][2],
                               row["parts"][3], row["parts"][4], row["parts"][5]};
    EXPECT_EQ(p, expected);
    if (row["hostname"].is_null()) {
      EXPECT_EQ(p.hostname(), std::nullopt);
    } else {
      EXPECT_EQ(p.hostname(), row["hostname"].get<std::string>());
    }
    if (row["port"].is_null()) {
      EXPECT_EQ(p.port(), std::nullopt);
    } else {
      EXPECT_EQ(p.port(), row["port"].get<int>());
    }
    EXPECT_EQ(p.geturl(), row["geturl"].get<std::string>());
  }
}

TEST(Urljoin, ResolvesEveryReferenceOfTheTableAsPythonDoes) {
  auto table = cases()["urljoin"];
  ASSERT_GE(table.size(), 50u);
  for (const auto& row : table) {
    std::string base = row["base"], url = row["url"];
    SCOPED_TRACE(base + " + " + url);
    EXPECT_EQ(http::urljoin(base, url), row["joined"].get<std::string>());
  }
}

TEST(Urlparse, TextThatIsNotAUriReferenceRaisesValueError) {
  // Python accepts these (except the bracket); RFC 3986 does not (url.hpp).
  for (const char* bad : {"http://a b/", "http://[::1/", "http://host/%zz"}) {
    try {
      (void)http::urlparse(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const asyncio::ValueError& e) {
      EXPECT_EQ(std::string(e.what()), std::string("Invalid URL: '") + bad + "'");
    }
  }
}

TEST(ParseResult, PrintsAsPythonsRepr) {
  std::ostringstream os;
  os << http::urlparse("http://a/b;p?q#f");
  EXPECT_EQ(os.str(), "ParseResult(scheme='http', netloc='a', path='/b', params='p', query='q', fragment='f')");
}

}  // namespace
