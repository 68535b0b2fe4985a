# What aiohttp raises for the two TLS failures of tests/test_http_server.cpp
# (HttpServer.AnExpiredCertificateIsRefusedWithTheVerificationError and
# HttpServer.AnHttpsRequestToAPlainServerIsATlsHandshakeError). Run with Debian's
# /usr/bin/python3 (python3-aiohttp, python3-cryptography). Prints, with aiohttp 3.8.4:
#   ClientConnectorCertificateError ClientSSLError ClientConnectorError
#   Cannot connect to host 127.0.0.1:PORT ssl:True [SSLCertVerificationError: (1, '[SSL:
#   CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:992)')]
#   10 certificate has expired
#   ClientConnectorSSLError ClientSSLError ClientConnectorError
#   Cannot connect to host 127.0.0.1:PORT ssl:default [[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:992)]
import asyncio, datetime, ipaddress, os, ssl, tempfile
import aiohttp
from aiohttp import web
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def expired_certificate(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now - datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_file, key_file


def show(e):
    print(*(c.__name__ for c in type(e).__mro__[:3]))
    print(str(e))


async def main():
    app = web.Application()
    app.router.add_get("/", lambda request: web.Response(text="hi"))
    runner = web.AppRunner(app)
    await runner.setup()
    with tempfile.TemporaryDirectory() as directory:
        cert_file, key_file = expired_certificate(directory)
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(cert_file, key_file)
        tls_site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
        await tls_site.start()
        port = tls_site._server.sockets[0].getsockname()[1]
        trusting = ssl.create_default_context(cafile=cert_file)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusting)) as session:
            try:
                await session.get(f"https://127.0.0.1:{port}/")
            except aiohttp.ClientConnectorCertificateError as e:
                show(e)
                print(e.certificate_error.verify_code, e.certificate_error.verify_message)
    plain_site = web.TCPSite(runner, "127.0.0.1", 0)
    await plain_site.start()
    port = plain_site._server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession() as session:
        try:
            await session.get(f"https://127.0.0.1:{port}/")
        except aiohttp.ClientConnectorSSLError as e:
            show(e)
    await runner.cleanup()

asyncio.run(main())
