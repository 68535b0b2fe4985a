# The aiohttp.web behaviour tests/test_http_server.cpp matches: the same routes,
# the same raw requests; prints each answer's status line and body.
# Run: /usr/bin/python3 tests/python/http_server_aiohttp.py  (aiohttp 3.8.4)
import asyncio
from aiohttp import web


async def page(request):
    return web.Response(text=f"page {request.match_info['n']} q={request.query.get('q', '')}")


async def boom(request):
    raise RuntimeError("boom")


async def echo(request):
    return web.Response(body=await request.read())


async def raw(host, port, data):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(data)
    got = await reader.read()  # until the server closes (Connection: close)
    writer.close()
    head, _, body = got.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body.decode()


async def main():
    app = web.Application()
    app.router.add_get("/page/{n}", page)
    app.router.add_get("/boom", boom)
    app.router.add_post("/echo", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    close = b"Connection: close\r\n\r\n"
    for req in [b"GET /page/7?q=a%20b HTTP/1.1\r\n" + close,
                b"GET /page/a%2Fb HTTP/1.1\r\n" + close,
                b"GET /nowhere HTTP/1.1\r\n" + close,
                b"POST /page/1 HTTP/1.1\r\nContent-Length: 0\r\n" + close,
                b"GET /boom HTTP/1.1\r\n" + close,
                b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n" + close[:-2] + b"\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"]:
        print(await raw("127.0.0.1", port, req))
    await runner.cleanup()

asyncio.run(main())
