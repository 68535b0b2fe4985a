// find_links on libgumbo (the crawler's BeautifulSoup).
#include "asyncio/http/html.hpp"

#include <gumbo.h>

#include <memory>

namespace asyncio::http {

std::vector<std::string> find_links(std::string_view html) {
  std::unique_ptr<GumboOutput, void (*)(GumboOutput*)> output(
      gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size()),
      [](GumboOutput* o) { gumbo_destroy_output(&kGumboDefaultOptions, o); });
  std::vector<std::string> links;
  // Depth-first, in document order, without recursion (deep documents exist).
  std::vector<const GumboNode*> stack{output->root};
  while (!stack.empty()) {
    const GumboNode* node = stack.back();
    stack.pop_back();
    if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE) continue;
    const GumboElement& element = node->v.element;
    if (element.tag == GUMBO_TAG_A) {
      if (const GumboAttribute* href = gumbo_get_attribute(&element.attributes, "href")) links.emplace_back(href->value);
    }
    for (unsigned i = element.children.length; i > 0; --i)
      stack.push_back(static_cast<const GumboNode*>(element.children.data[i - 1]));
  }
  return links;
}

}  // namespace asyncio::http
