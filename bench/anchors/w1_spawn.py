"""W1 spawn, CPython asyncio anchor.

Create N tasks that each sleep(0) once and return their index; gather them all
and sum the results. Prints one line: `seconds=<float> result=<integer>`, where
seconds covers creating, running and summing (not interpreter or loop start-up).

Usage: python3 w1_spawn.py [N] [--uvloop]   (uvloop: run with /usr/bin/python3)
"""
import argparse
import asyncio
import time


async def work(i):
    await asyncio.sleep(0)
    return i


async def main(n):
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(work(i)) for i in range(n)]
    result = sum(await asyncio.gather(*tasks))
    return time.perf_counter() - t0, result


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
