"""W2 ping-pong, CPython asyncio anchor.

Two tasks pass N messages through a Queue(maxsize=1) and each message comes
back through a second Queue(maxsize=1): a round trip is one message there and
one back. The producer sums the values it gets back (result = N*(N-1)/2).
Prints one line: `seconds=<float> result=<integer>`.

Usage: python3 w2_pingpong.py [N] [--uvloop]   (uvloop: run with /usr/bin/python3)
"""
import argparse
import asyncio
import time


async def producer(there, back, n):
    total = 0
    for i in range(n):
        await there.put(i)
        total += await back.get()
    return total


async def consumer(there, back, n):
    for _ in range(n):
        await back.put(await there.get())


async def main(n):
    there = asyncio.Queue(maxsize=1)
    back = asyncio.Queue(maxsize=1)
    t0 = time.perf_counter()
    total, _ = await asyncio.gather(producer(there, back, n), consumer(there, back, n))
    return time.perf_counter() - t0, total


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--uvloop", action="store_true", help="install uvloop's event loop")
    return parser.parse_args()


if __name__ == "__main__":
    args = parse_args()
    if args.uvloop:
        import uvloop
        uvloop.install()
    seconds, result = asyncio.run(main(args.n))
    print(f"seconds={seconds:.6f} result={result}")
