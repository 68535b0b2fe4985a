# The asyncio docs' TCP echo client and server with streams ("TCP echo
# client using streams" / "TCP echo server using streams"), in one program:
# the server listens on port 0 (a free port) and the client connects to it,
# so that the output is the same on every run. The peer is printed without
# its (random) port.
import asyncio


async def handle_echo(reader, writer):
    data = await reader.read(100)
    message = data.decode()
    addr = writer.get_extra_info('peername')

    print(f"Received {message!r} from {addr[0]!r}")

    print(f"Send: {message!r}")
    writer.write(data)
    await writer.drain()

    print("Close the connection")
    writer.close()
    await writer.wait_closed()


async def tcp_echo_client(message, port):
    reader, writer = await asyncio.open_connection('127.0.0.1', port)

    print(f'Send: {message!r}')
    writer.write(message.encode())
    await writer.drain()

    data = await reader.read(100)
    print(f'Received: {data.decode()!r}')

    print('Close the connection')
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(handle_echo, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    print(f'Serving on 127.0.0.1')

    async with server:
        await tcp_echo_client('Hello World!', port)


asyncio.run(main())
