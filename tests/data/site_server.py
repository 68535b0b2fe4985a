#!/usr/bin/env python3
"""The web crawler's test site: serves tests/data/site/ on 127.0.0.1 and
prints the port it listens on (first line of stdout). Beyond the files:
/old.html answers 301 to /about.html, /slow.html answers after 6 s (beyond
the crawler's 5 s timeout), anything missing is a 404. HTML and text are sent
with charset=utf-8, so both crawlers decode them the same way (aiohttp would
otherwise guess the charset).

Usage: python3 tests/data/site_server.py [PORT]   (0 or nothing: any free port)
"""
import http.server
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "site")


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                      ".mp4": "video/mp4", "": "application/octet-stream"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=ROOT, **kwargs)

    def do_GET(self):
        if self.path == "/old.html":
            self.send_response(301)
            self.send_header("Location", "/about.html")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/slow.html":
            time.sleep(6)
        try:
            super().do_GET()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
