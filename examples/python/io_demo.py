# The talk's io.py made local: N downloads from a latency server on this machine
# (GET /page/N answers after a fixed delay, 100 ms by default), four ways: one
# after another (requests.get), a thread pool, a process pool, and asyncio
# (gather over one aiohttp ClientSession); then, on request, the scale run
# (N downloads, at most LIMIT at once, a Semaphore). Twin of examples/io_demo.cpp.
#
#   python3 io_demo.py                      # its own latency server, 100 downloads, the four ways
#   python3 io_demo.py serve PORT [LATENCY] # only the latency server, until SIGINT/SIGTERM (PORT 0: any)
#   python3 io_demo.py PORT N [WAY...]      # against a running server; WAY: sync threads processes asyncio
#   python3 io_demo.py PORT N scale [LIMIT] # N downloads with asyncio, at most LIMIT (2000) at once
# Anything else: the usage, status 2 (-h, --help: status 0).
# Needs requests and aiohttp (Debian: python3-requests python3-aiohttp, /usr/bin/python3).
import asyncio, sys, threading, time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import aiohttp
import requests
from aiohttp import web


# ---- the latency server (the "external resource") -------------------------------
async def page(request):
    await asyncio.sleep(request.app["latency"])
    return web.Response(text=f"<html><body><h1>{request.path}</h1></body></html>", content_type="text/html")


def latency_app(latency):
    app = web.Application()
    app["latency"] = latency
    app.router.add_get("/page/{n}", page)
    return app


async def serve(port, latency, ready):
    runner = web.AppRunner(latency_app(latency), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096)
    await site.start()
    ready(site._server.sockets[0].getsockname()[1])
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


# ---- the four ways -------------------------------------------------------------------
def get(url):
    return requests.get(url).status_code


async def aget(session, url):
    async with session.get(url) as response:
        await response.read()
        return response.status


async def all_async(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(aget(session, u) for u in urls))


async def scale(urls, limit):
    sem = asyncio.Semaphore(limit)
    connector = aiohttp.TCPConnector(limit=limit)

    async def one(session, url):
        async with sem:
            return await aget(session, url)

    async with aiohttp.ClientSession(connector=connector) as session:
        return await asyncio.gather(*(one(session, u) for u in urls))


def timed(label, fn, n):
    t = time.time()
    res = list(fn())
    d = time.time() - t
    assert res == [200] * n, res
    print(f"{label} Duration: {d:.2f} seconds", flush=True)


def run_ways(port, n, ways):
    urls = [f"http://127.0.0.1:{port}/page/{i}" for i in range(n)]
    if "sync" in ways:
        timed("Sync", lambda: [get(u) for u in urls], n)
    if "threads" in ways:
        with ThreadPoolExecutor() as pool:
            timed("Thread pool", lambda: pool.map(get, urls), n)
    if "processes" in ways:
        with ProcessPoolExecutor() as pool:
            timed("Process pool", lambda: pool.map(get, urls), n)
    if "asyncio" in ways:
        timed("asyncio", lambda: asyncio.run(all_async(urls)), n)


USAGE = """usage: io_demo                      its own latency server, 100 downloads, the four ways
       io_demo serve PORT [LATENCY] only the latency server, until SIGINT (PORT 0: any)
       io_demo PORT N [WAY...]      WAY: sync threads processes asyncio (none: all four)
       io_demo PORT N scale [LIMIT] N downloads with asyncio, at most LIMIT (2000) at once"""


def usage_error(message):
    print(f"{USAGE}\nio_demo: error: {message}", file=sys.stderr)
    sys.exit(2)


def integer(arg, what, lo, hi):
    if not (arg.isascii() and arg.lstrip("-").isdigit() and lo <= int(arg) <= hi):
        usage_error(f"{what} must be an integer from {lo} to {hi}, not '{arg}'")
    return int(arg)


def seconds(arg, what):
    try:
        value = float(arg)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        usage_error(f"{what} must be a number of seconds from 0 to 3600, not '{arg}'")
    return value


def main(argv):
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
    elif argv[:1] == ["serve"]:
        if len(argv) > 3:
            usage_error("serve takes PORT and LATENCY at most")
        port = integer(argv[1], "PORT", 0, 65535) if len(argv) > 1 else 8765
        latency = seconds(argv[2], "LATENCY") if len(argv) > 2 else 0.1
        banner = "======== Running on http://127.0.0.1:{} ========\n(Press CTRL+C to quit)"  # web.run_app's
        try:
            asyncio.run(serve(port, latency, lambda p: print(banner.format(p), flush=True)))
        except KeyboardInterrupt:
            pass
    elif argv:
        port = integer(argv[0], "PORT", 1, 65535)
        if len(argv) < 2:
            usage_error("PORT and N are needed")
        n, ways = integer(argv[1], "N", 0, 10_000_000), argv[2:] or ["sync", "threads", "processes", "asyncio"]
        if ways[0] == "scale":
            if len(ways) > 2:
                usage_error("scale takes LIMIT at most")
            limit = integer(ways[1], "LIMIT", 1, 1_000_000) if len(ways) > 1 else 2000
            urls = [f"http://127.0.0.1:{port}/page/{i}" for i in range(n)]
            t = time.time()
            res = asyncio.run(scale(urls, limit))
            assert res == [200] * n
            print(f"asyncio {n} requests, {limit} at once: {time.time() - t:.2f} seconds", flush=True)
        else:
            for way in ways:
                if way not in ("sync", "threads", "processes", "asyncio"):
                    usage_error(f"unknown WAY '{way}'")
            run_ways(port, n, ways)
    else:
        # Its own latency server, on a thread with its own loop.
        ready = threading.Event()
        port = []
        threading.Thread(target=lambda: asyncio.run(serve(0, 0.1, lambda p: (port.append(p), ready.set()))),
                         daemon=True).start()
        ready.wait()
        run_ways(port[0], 100, ["sync", "threads", "processes", "asyncio"])


if __name__ == "__main__":
    main(sys.argv[1:])
