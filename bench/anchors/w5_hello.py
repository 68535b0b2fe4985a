"""W5 HTTP hello-world server, aiohttp.web anchor (bench/compare --only w5).

GET / answers "Hello, World!" (text/plain), keep-alive, no access log.
Listens on 127.0.0.1:PORT (0: a free port), over TLS with --tls CERT KEY,
prints `port=<port>`, serves until SIGTERM or SIGINT. --uvloop runs it on uvloop.

Usage: /usr/bin/python3 w5_hello.py [PORT] [--tls CERT KEY] [--uvloop]
"""
import argparse
import asyncio
import signal
import ssl

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!")


async def main(port, tls):
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    context = None
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    print(f"port={runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", nargs="?", type=int, default=0)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop
        uvloop.install()
    asyncio.run(main(args.port, args.tls))
