#!/usr/bin/env python3
"""Writes tests/data/html_cases.json: the hrefs BeautifulSoup finds in a few
HTML documents, as the web crawler asks for them, for tests/test_http_html.cpp.
Needs bs4 (Debian's python3-bs4: /usr/bin/python3).

Regenerate: /usr/bin/python3 tests/data/html_cases.py > tests/data/html_cases.json
"""
import json
import re

from bs4 import BeautifulSoup

DOCS = [
    '<html><body><a href="/a">A</a> <a href="http://x/b">B</a> <a>no href</a> <a href="/c">C</a></body></html>',
    '<p>Links <A HREF="/upper">in capitals</A>, <a href=\'/single\'>single quotes</a>, <a href=/bare>bare</a></p>',
    '<a href="/q?x=1&amp;y=2">entity</a><a href="/caf&eacute;">named</a><a href="/&#x2713;">numeric</a>',
    '<ul><li><a href="/one">1<li><a href="/two">2</ul><div><a href="/nested"><span>deep</span></a></div>',
    '<!-- <a href="/commented">no</a> --><script>var s = "<a href=\'/in-script\'>";</script><a href="/after">yes</a>',
    '<a href="">empty</a><a href=" /space">space</a><a href="#frag">fragment</a><a href="//proto/rel">proto</a>',
    '<html><head><title>Ünïcödé ✓</title></head><body><a href="/ünï">unicode</a></body></html>',
    '<table><tr><td><a href="/cell">cell</a></td></tr></table><a href="/video.mp4">video</a>',
    'no html at all',
    '<a href="/unclosed">unclosed <b>bold <a href="/second">second</a>',
]


def links(html, pattern=None):
    attrs = {"href": re.compile(pattern)} if pattern else {"href": True}
    return [a.get("href") for a in BeautifulSoup(html, features="html.parser").find_all("a", attrs=attrs)]


print(json.dumps([{"html": d, "links": links(d), "rooted": links(d, r"^/")} for d in DOCS],
                 indent=1, ensure_ascii=False))
