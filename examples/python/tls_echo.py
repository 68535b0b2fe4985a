# The TCP echo client and server with streams (tcp_echo_streams.py), over TLS:
# the server loads a self-signed certificate for localhost, made at start-up
# with the `openssl` command; the client trusts exactly that certificate and
# checks the host name, as ssl.create_default_context() does.
import asyncio
import ssl
import subprocess
import tempfile
from pathlib import Path


def make_certificate(directory):
    cert, key = Path(directory) / 'cert.pem', Path(directory) / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                    '-nodes', '-days', '1', '-subj', '/CN=localhost',
                    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
                    '-keyout', str(key), '-out', str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


async def handle_echo(reader, writer):
    data = await reader.read(100)
    message = data.decode()
    addr = writer.get_extra_info('peername')
    version = writer.get_extra_info('ssl_object').version()

    print(f"Received {message!r} from {addr[0]!r} over {version}")

    print(f"Send: {message!r}")
    writer.write(data)
    await writer.drain()

    print("Close the connection")
    writer.close()
    await writer.wait_closed()


async def tls_echo_client(message, port, cafile):
    context = ssl.create_default_context(cafile=cafile)
    reader, writer = await asyncio.open_connection('localhost', port, ssl=context)
    subject = dict(rdn[0] for rdn in writer.get_extra_info('peercert')['subject'])
    print(f"Server certificate: {subject['commonName']!r}")

    print(f'Send: {message!r}')
    writer.write(message.encode())
    await writer.drain()

    data = await reader.read(100)
    print(f'Received: {data.decode()!r}')

    print('Close the connection')
    writer.close()
    await writer.wait_closed()


async def main():
    with tempfile.TemporaryDirectory() as directory:
        cert, key = make_certificate(directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)

        server = await asyncio.start_server(handle_echo, '127.0.0.1', 0, ssl=context)
        port = server.sockets[0].getsockname()[1]
        print('Serving on 127.0.0.1 with TLS')

        async with server:
            await tls_echo_client('Hello TLS!', port, cert)


asyncio.run(main())
