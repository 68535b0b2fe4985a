# Twin of Server.RunningOutOfDescriptorsOnAcceptLeavesTheConnectionQueuedAndRetriesASecondLater
# (tests/test_transports.cpp): accept() out of descriptors is reported up to
# `backlog` times, the connection stays queued and is served by the retry.
import asyncio
import fcntl
import resource


async def main():
    loop = asyncio.get_running_loop()
    reported = []
    loop.set_exception_handler(
        lambda l, c: reported.append(f"{c['message']}: {type(c['exception']).__name__} {c['exception']}"))

    async def echo(r, w):
        while data := await r.read(100):
            w.write(data)

    server = await asyncio.start_server(echo, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    saved = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit, free = 0, 0
    while free < 3:
        try:
            fcntl.fcntl(limit, fcntl.F_GETFD)
        except OSError:
            free += 1
        limit += 1
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, saved[1]))
    r1, w1 = await asyncio.open_connection('127.0.0.1', port)
    w1.write(b'x')
    print('client 1:', await r1.read(1))
    r2, w2 = await asyncio.open_connection('127.0.0.1', port)
    w2.write(b'y')
    while not reported:
        await asyncio.sleep(0.001)
    resource.setrlimit(resource.RLIMIT_NOFILE, saved)
    print('reports:', len(reported), 'x', *set(reported))
    print('client 2:', await r2.read(1))
    w1.close()
    w2.close()
    server.close()


asyncio.run(main())
