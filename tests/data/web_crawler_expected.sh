#!/usr/bin/env bash
# Regenerates tests/data/web_crawler.expected: the Python twin's output
# (examples/python/web_crawler.py, run by /usr/bin/python3, which has aiohttp and
# bs4) against the test site (tests/data/site_server.py), its lines sorted,
# the port replaced by PORT. tests/test_web_crawler.cpp compares the C++
# crawler's output with it the same way.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
python3 tests/data/site_server.py >"$out" &
server=$!
trap 'kill $server; rm -f "$out"' EXIT
for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done
port=$(head -1 "$out")
/usr/bin/python3 examples/python/web_crawler.py "http://127.0.0.1:$port/" |
  sed "s/127\.0\.0\.1:$port/127.0.0.1:PORT/g" | LC_ALL=C sort >tests/data/web_crawler.expected
cat tests/data/web_crawler.expected
