// find_links (http/html.hpp) against BeautifulSoup on the documents of
// tests/data/html_cases.json, written by tests/data/html_cases.py.
#include "asyncio/http/html.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace http = asyncio::http;

namespace {

TEST(FindLinks, FindsTheHrefsBeautifulSoupFinds) {
  std::ifstream f(std::string(ASYNCIO_SOURCE_DIR) + "/tests/data/html_cases.json");
  auto table = nlohmann::json::parse(f);
  ASSERT_GE(table.size(), 10u);
  for (const auto& row : table) {
    std::string html = row["html"];
    SCOPED_TRACE(html);
    std::vector<std::string> links = http::find_links(html);
    EXPECT_EQ(links, row["links"].get<std::vector<std::string>>());
    // The crawler's filter: find_all('a', href=re.compile('^/')).
    std::vector<std::string> rooted;
    for (auto& l : links)
      if (!l.empty() && l[0] == '/') rooted.push_back(l);
    EXPECT_EQ(rooted, row["rooted"].get<std::vector<std::string>>());
  }
}

TEST(FindLinks, SurvivesDeeplyNestedDocuments) {
  std::string html;
  for (int i = 0; i < 2000; ++i) html += "<div>";
  html += "<a href=\"/deep\">x</a>";
  EXPECT_EQ(http::find_links(html), std::vector<std::string>{"/deep"});
}

}  // namespace
