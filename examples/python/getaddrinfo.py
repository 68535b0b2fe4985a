# loop.getaddrinfo: name resolution without blocking the loop (it runs in a
# thread pool). IPv4 only, so that the output does not depend on whether
# the machine's "localhost" also has an IPv6 address.
import asyncio
import socket


async def main():
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo('localhost', 80, family=socket.AF_INET, type=socket.SOCK_STREAM)
    for family, type_, proto, canonname, sockaddr in infos:
        print(family.name, type_.name, proto, repr(canonname), sockaddr)
    host, port = await loop.getnameinfo(('127.0.0.1', 80), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)
    print(host, port)


asyncio.run(main())
