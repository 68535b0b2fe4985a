"""W3 timers, CPython asyncio anchor.

N tasks each sleep a pseudo-random 0-999 ms (a fixed LCG, the same delays in
every implementation) and return their index; gather; sum (N*(N-1)/2).
Prints `seconds=<float> result=<integer>`; the overhead is seconds minus the
longest delay (bench/compare reports it).

Usage: python3 w3_timers.py [N] [--uvloop]
"""
import argparse
import asyncio
import time


def delays(n):
    seed = 12345
    for _ in range(n):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        yield (seed >> 8) % 1000  # milliseconds


async def sleeper(i, ms):
    await asyncio.sleep(ms / 1000)
    return i


async def main(n):
    t0 = time.perf_counter()
    results = await asyncio.gather(*(sleeper(i, ms) for i, ms in enumerate(delays(n))))
    return time.perf_counter() - t0, sum(results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop
        uvloop.install()
    seconds, result = asyncio.run(main(args.n))
    print(f"seconds={seconds:.6f} result={result}")
