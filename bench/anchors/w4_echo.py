"""W4 TCP echo server, CPython asyncio / uvloop anchor.

Streams by default (reader.read() then writer.write() + drain()), or a
Protocol whose data_received writes the data back (--protocol). Listens on
127.0.0.1:PORT (0: a free port), prints `port=<port>`, serves until killed.

Usage: python3 w4_echo.py [PORT] [--protocol] [--uvloop]
"""
import argparse
import asyncio


async def handle_echo(reader, writer):
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main(port, protocol):
    if protocol:
        server = await asyncio.get_running_loop().create_server(EchoProtocol, '127.0.0.1', port)
    else:
        server = await asyncio.start_server(handle_echo, '127.0.0.1', port)
    print(f"port={server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", nargs="?", type=int, default=0)
    parser.add_argument("--protocol", action="store_true")
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop
        uvloop.install()
    asyncio.run(main(args.port, args.protocol))
