# The Python twin of tests/test_ssl.cpp's expected messages and values (CPython 3.11).
# Run: python3 tests/python/ssl_twin.py   (needs the `openssl` command)
# Prints (the (_ssl.c:NNNN) suffix is CPython's C source line, left out in C++):
#   SSLCertVerificationError 1 SSL CERTIFICATE_VERIFY_FAILED 62 [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify
#     failed: Hostname mismatch, certificate is not valid for 'wrong.example'. (_ssl.c:1006)
#   SSLCertVerificationError ... 18 [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate
#   peercert {'subject': ((('commonName', 'localhost'),),), 'issuer': ..., 'version': 3, 'serialNumber': '...',
#     'notBefore': '...', 'notAfter': '...', 'subjectAltName': (('DNS', 'localhost'), ('IP Address', '127.0.0.1'))}
#   cipher ('TLS_AES_256_GCM_SHA384', 'TLSv1.3', 256) version TLSv1.3 alpn http/1.1 server peercert None
#   noverify {}
#   ConnectionAbortedError('SSL handshake is taking longer than 0.2 seconds: aborting the connection')
#   last words b'' (a peer without close_notify: EOF, no error)
#   TimeoutError('SSL shutdown timed out')
#   ValueError('Cannot set verify_mode to CERT_NONE when check_hostname is enabled.')
#   ValueError('server_hostname is only meaningful with ssl')
#   ValueError('ssl_handshake_timeout is only meaningful with ssl')
#   (nothing for ssl_shutdown_timeout=-1.0: CPython checks it per connection, where the ValueError is lost;
#    the C++ start_server raises ValueError('ssl_shutdown_timeout should be a positive number, got -1.0'))
#   SSLError(..., '[SSL] PEM lib (_ssl.c:3905)') SSL None
#   SSLError('No cipher can be selected.')
import asyncio, os, ssl, subprocess, tempfile

d = tempfile.mkdtemp()
cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", key, "-out", cert], check=True, capture_output=True)

def server_context():
    c = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    c.load_cert_chain(cert, key)
    return c

async def echo(r, w):
    while data := await r.read(65536):
        w.write(data)
        await w.drain()
    w.close()

async def main():
    sctx = server_context()
    sctx.set_alpn_protocols(["http/1.1"])
    seen = []
    async def handler(r, w):
        seen.append(w.get_extra_info("peercert"))
        await echo(r, w)
    srv = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=sctx)
    port = srv.sockets[0].getsockname()[1]
    for host, ctx in [("wrong.example", ssl.create_default_context(cafile=cert)),
                      ("localhost", ssl.create_default_context())]:
        try:
            await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=host)
        except ssl.SSLError as e:
            print(type(e).__name__, e.errno, e.library, e.reason, e.verify_code, e)
    c = ssl.create_default_context(cafile=cert)
    c.set_alpn_protocols(["h2", "http/1.1"])
    r, w = await asyncio.open_connection("127.0.0.1", port, ssl=c)
    o = w.get_extra_info("ssl_object")
    print("peercert", w.get_extra_info("peercert"))
    w.write(b"x"); await r.readexactly(1)
    print("cipher", w.get_extra_info("cipher"), "version", o.version(), "alpn", o.selected_alpn_protocol(),
          "server peercert", seen[0])
    w.close(); await w.wait_closed()
    off = ssl.create_default_context(); off.check_hostname = False; off.verify_mode = ssl.CERT_NONE
    r, w = await asyncio.open_connection("127.0.0.1", port, ssl=off)
    print("noverify", w.get_extra_info("peercert"))
    w.close(); await w.wait_closed()
    srv.close(); await srv.wait_closed()

    async def silent(r, w):
        await r.read()
    srv = await asyncio.start_server(silent, "127.0.0.1", 0)
    try:
        await asyncio.open_connection("127.0.0.1", srv.sockets[0].getsockname()[1],
                                      ssl=ssl.create_default_context(cafile=cert), server_hostname="localhost",
                                      ssl_handshake_timeout=0.2)
    except ConnectionAbortedError as e:
        print(repr(e))
    srv.close(); await srv.wait_closed()

    async def rude(r, w):
        w.write(b"last words"); await w.drain()
        await r.readexactly(3)
        w.transport.abort()
    srv = await asyncio.start_server(rude, "127.0.0.1", 0, ssl=server_context())
    r, w = await asyncio.open_connection("localhost", srv.sockets[0].getsockname()[1],
                                         ssl=ssl.create_default_context(cafile=cert))
    data = await r.readexactly(10); w.write(b"ack")
    print(data.decode(), await r.read())
    w.close()
    srv.close(); await srv.wait_closed()

    class Deaf(asyncio.Protocol):  # never reads: the client's close_notify stays unanswered
        def connection_made(self, transport):
            transport.pause_reading()
    srv = await asyncio.get_running_loop().create_server(Deaf, "127.0.0.1", 0, ssl=server_context())
    r, w = await asyncio.open_connection("localhost", srv.sockets[0].getsockname()[1],
                                         ssl=ssl.create_default_context(cafile=cert), ssl_shutdown_timeout=0.2)
    w.close()
    try:
        await w.wait_closed()
    except TimeoutError as e:
        print(repr(e))
    srv.close()

    try:
        ssl.create_default_context().verify_mode = ssl.CERT_NONE
    except ValueError as e:
        print(repr(e))
    for kw in [dict(server_hostname="localhost"), dict(ssl_handshake_timeout=1)]:
        try:
            await asyncio.open_connection("127.0.0.1", 1, **kw)
        except ValueError as e:
            print(repr(e))
    try:
        await asyncio.start_server(echo, "127.0.0.1", 0, ssl=server_context(), ssl_shutdown_timeout=-1.0)
    except ValueError as e:
        print(repr(e))
    try:
        ssl.create_default_context().load_cert_chain(key, key)
    except ssl.SSLError as e:
        print(repr(e), e.library, e.reason)
    try:
        ssl.create_default_context().set_ciphers("nonsense")
    except ssl.SSLError as e:
        print(repr(e))

asyncio.run(main())
