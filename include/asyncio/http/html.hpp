#pragma once
/// \file http/html.hpp
/// Links in an HTML page, with Debian's libgumbo (Google's HTML5 parser): the
/// part of BeautifulSoup the web crawler uses.
///
/// | Python (bs4)                                                      | C++ (asyncio::http)                 |
/// |-------------------------------------------------------------------|-------------------------------------|
/// | `[a.get('href') for a in BeautifulSoup(html, "html.parser").find_all('a', href=True)]` | `find_links(html)` |
/// | `... find_all('a', href=re.compile('^/'))`                        | `find_links(html)`, then keep the hrefs that start with '/' (as examples/web_crawler.cpp does) |
///
/// Returns the `href` of every `<a>` element that has one, in document order,
/// with character references decoded (`&amp;` is `&`), as BeautifulSoup gives
/// them. `html` is UTF-8. Malformed HTML is parsed as a browser would (HTML5
/// error recovery), never rejected. One difference from bs4's "html.parser":
/// an element with two href attributes gives the first (HTML5), where
/// html.parser keeps the last.
///
/// Thread safety: a pure function.
#include <string>
#include <string_view>
#include <vector>

namespace asyncio::http {

/// The hrefs of the `<a>` elements of `html`, in document order.
std::vector<std::string> find_links(std::string_view html);

}  // namespace asyncio::http
