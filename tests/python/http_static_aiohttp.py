# aiohttp's add_static answers for the tree tests/test_http_server.cpp's StaticFilesAreServedFromTheirDirectoryOnly builds.
# Run: /usr/bin/python3 tests/python/http_static_aiohttp.py (aiohttp 3.8.4). Prints, per target: status line, Content-Type, body.
import asyncio, os, tempfile
from aiohttp import web

async def main():
    d = tempfile.mkdtemp()
    pub = os.path.join(d, 'public'); os.makedirs(os.path.join(pub, 'docs'))
    open(os.path.join(pub, 'hello.txt'), 'w').write('hello\n')
    open(os.path.join(pub, 'docs', 'a b.html'), 'w').write('<p>a b</p>')
    open(os.path.join(pub, 'blob.bin'), 'wb').write(b'\0\1\2')
    open(os.path.join(d, 'secret.txt'), 'w').write('secret')
    os.symlink(os.path.join(d, 'secret.txt'), os.path.join(pub, 'link.txt'))
    app = web.Application(); app.router.add_static('/static', pub)
    runner = web.AppRunner(app); await runner.setup(); site = web.TCPSite(runner, '127.0.0.1', 0); await site.start()
    port = runner.addresses[0][1]
    for target in ['/static/hello.txt', '/static/docs/a%20b.html', '/static/blob.bin', '/static/docs',
                   '/static/../secret.txt', '/static/%2e%2e/secret.txt', '/static/link.txt', '/static/nothing.txt',
                   '/static/docs/../../secret.txt', '/static//etc/passwd']:
        r, w = await asyncio.open_connection('127.0.0.1', port)
        w.write(f'GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'.encode())
        data = await r.read()
        head, _, body = data.partition(b'\r\n\r\n')
        lines = head.decode().split('\r\n')
        ct = [l for l in lines if l.lower().startswith('content-type')]
        print(target, lines[0], ct, body[:20])
        w.close()
    await runner.cleanup()
asyncio.run(main())
