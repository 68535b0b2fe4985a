# A small web service on aiohttp: a JSON API holding items in memory (create,
# list, fetch by id, 404 for a missing one), a route that awaits something slow
# (an upstream program run as a subprocess) while other requests go on, static
# files from a directory, a log line per request, HTTP and HTTPS, and a
# graceful shutdown on SIGTERM. To print the same thing every run, the program
# serves on free ports, drives itself with the HTTP client, and at the end sends
# itself SIGTERM while a slow request is in flight.
import asyncio
import json
import os
import signal
import ssl
import subprocess
import tempfile
from pathlib import Path

import aiohttp
from aiohttp import web


# ---- the service ------------------------------------------------------------------

# [service]
async def list_items(request):
    items = request.app['items']
    return web.json_response(list(items.values()))


async def create_item(request):
    try:
        data = json.loads(await request.text())
    except ValueError:
        return web.json_response({'error': 'invalid JSON'}, status=400)
    if not isinstance(data, dict) or not isinstance(data.get('name'), str):
        return web.json_response({'error': 'name is required'}, status=400)
    items = request.app['items']
    item = {'id': len(items) + 1, 'name': data['name']}
    items[item['id']] = item
    return web.json_response(item, status=201)


async def get_item(request):
    item_id = request.match_info['id']
    item = request.app['items'].get(int(item_id)) if item_id.isdigit() else None
    if item is None:
        return web.json_response({'error': f'no item {item_id}'}, status=404)
    return web.json_response(item)


async def slow(request):
    # An upstream that takes a second: other requests are served meanwhile.
    upstream = await asyncio.create_subprocess_exec(
        'sh', '-c', 'sleep 1; echo upstream answered', stdout=subprocess.PIPE)
    out, _ = await upstream.communicate()
    return web.json_response({'upstream': out.decode().strip()})


async def log_request(request, response):
    print(f'[server] {request.method} {request.path} {response.status}')


def make_app(static_dir):
    app = web.Application()
    app['items'] = {}
    app.router.add_get('/items', list_items)
    app.router.add_post('/items', create_item)
    app.router.add_get('/items/{id}', get_item)
    app.router.add_get('/slow', slow)
    app.router.add_static('/static', static_dir)
    app.on_response_prepare.append(log_request)
    return app
# [end]


# ---- the demonstration --------------------------------------------------------------

def make_files(directory):
    static = Path(directory) / 'static'
    static.mkdir()
    (static / 'hello.txt').write_text('Hello from a static file\n')
    cert, key = Path(directory) / 'cert.pem', Path(directory) / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                    '-nodes', '-days', '1', '-subj', '/CN=localhost',
                    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
                    '-keyout', str(key), '-out', str(cert)], check=True, capture_output=True)
    return str(static), str(cert), str(key)


async def show(session, method, base, path, data=None):
    async with session.request(method, base + path, data=data) as response:
        text = await response.text()
        print(f'{method} {path} -> {response.status} {response.content_type} {text.strip()}')


# [drive]
async def drive(http_url, https_url, cafile):
    async with aiohttp.ClientSession() as session:
        await show(session, 'POST', http_url, '/items', '{"name": "apple"}')
        await show(session, 'POST', http_url, '/items', '{"name": "pear"}')
        await show(session, 'POST', http_url, '/items', 'not json')
        await show(session, 'GET', http_url, '/items')
        await show(session, 'GET', http_url, '/items/2')
        await show(session, 'GET', http_url, '/items/7')
        await show(session, 'GET', http_url, '/static/hello.txt')
        await show(session, 'GET', http_url, '/static/missing.txt')

        # While /slow waits for its upstream, other requests are answered.
        async def meanwhile():
            await show(session, 'GET', http_url, '/items/1')
            await show(session, 'GET', http_url, '/items')

        await asyncio.gather(show(session, 'GET', http_url, '/slow'), meanwhile())
    context = ssl.create_default_context(cafile=cafile)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        await show(session, 'GET', https_url, '/items/1')
        # SIGTERM while a request is in flight: it is answered, then the server stops.
        in_flight = asyncio.create_task(show(session, 'GET', https_url, '/slow'))
        await asyncio.sleep(0.3)
        print('sending SIGTERM')
        os.kill(os.getpid(), signal.SIGTERM)
        await in_flight
# [end]


# [main]
async def main():
    with tempfile.TemporaryDirectory() as directory:
        static, cert, key = make_files(directory)
        runner = web.AppRunner(make_app(static), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, '127.0.0.1', 0).start()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        await web.TCPSite(runner, '127.0.0.1', 0, ssl_context=context).start()
        (_, http_port), (_, https_port) = runner.addresses
        print('serving HTTP and HTTPS on 127.0.0.1')

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        client = asyncio.create_task(drive(f'http://127.0.0.1:{http_port}', f'https://127.0.0.1:{https_port}', cert))
        await stop.wait()
        print('SIGTERM received: shutting down')
        await runner.cleanup()
        await client
        loop.remove_signal_handler(signal.SIGTERM)
        print('bye')


asyncio.run(main())
# [end]
