#!/usr/bin/env python3
"""Writes tests/data/url_cases.json: what CPython's urllib.parse says on a
table of URLs, for tests/test_http_url.cpp (urlparse / urljoin in C++).

Regenerate: python3 tests/data/url_cases.py > tests/data/url_cases.json
"""
import json
from urllib.parse import urljoin, urlparse

PARSE = [
    "http://example.com",
    "http://example.com/",
    "https://www.apple.com/iphone/",
    "HTTP://Example.COM:8080/a/b?x=1&y=2#frag",
    "http://user:pass@host.example:81/p;params?q#f",
    "http://127.0.0.1:8000/index.html",
    "http://[::1]:8080/ipv6",
    "http://[2001:db8::7]/c=GB?objectClass?one",
    "https://en.wikipedia.org/wiki/Asynchronous_I/O",
    "/relative/path?query",
    "relative/file.html",
    "//network.example/path",
    "mailto:user@example.com",
    "file:///etc/hosts",
    "http://example.com/a;b/c;d",
    "http://example.com?only=query",
    "http://example.com#only-fragment",
    "http://example.com:/empty-port",
    "",
    "?q",
    "#f",
    "http://a/b/c/%7Efoo",
]

BASE = "http://a/b/c/d;p?q"
JOIN = [(BASE, ref) for ref in [
    # RFC 3986 section 5.4.1, normal examples
    "g:h", "g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "g#s", "g?y#s", ";x", "g;x", "g;x?y#s",
    "", ".", "./", "..", "../", "../g", "../..", "../../", "../../g",
    # section 5.4.2, abnormal examples
    "../../../g", "../../../../g", "/./g", "/../g", "g.", ".g", "g..", "..g", "./../g", "./g/.", "g/./h",
    "g/../h", "g;x=1/./y", "g;x=1/../y", "g?y/./x", "g?y/../x", "g#s/./x", "g#s/../x", "http:g",
]] + [
    # what a crawler joins
    ("http://127.0.0.1:8000/index.html", "/about.html"),
    ("http://127.0.0.1:8000/dir/page.html", "other.html"),
    ("http://127.0.0.1:8000/dir/page.html", "../up.html"),
    ("https://www.apple.com/iphone/", "/mac/"),
    ("https://www.apple.com/iphone/", "https://support.apple.com/"),
    ("https://www.apple.com/iphone/", "//cdn.apple.com/x.js"),
    ("https://www.apple.com/iphone/", "http://www.apple.com/"),
    ("http://example.com", "page"),
    ("http://example.com/a/b", "?q=1"),
    ("http://example.com/a/b?x", "#top"),
    ("", "http://example.com/"),
    ("http://example.com/", "mailto:me@example.com"),
]


def parse_row(url):
    p = urlparse(url)
    return {"url": url, "parts": list(p), "hostname": p.hostname, "port": p.port, "geturl": p.geturl()}


print(json.dumps({
    "python": "urllib.parse of CPython " + __import__("sys").version.split()[0],
    "urlparse": [parse_row(u) for u in PARSE],
    "urljoin": [{"base": b, "url": u, "joined": urljoin(b, u)} for b, u in JOIN],
}, indent=1, ensure_ascii=False))
