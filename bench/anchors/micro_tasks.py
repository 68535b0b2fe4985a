"""micro_tasks.cpp's twin: the combinators' costs in CPython asyncio.

    python3 bench/anchors/micro_tasks.py [--min-seconds S] [--uvloop]

Each benchmark repeats its body inside one asyncio.run until --min-seconds have passed (at
least once) and prints `name=<nanoseconds per operation> unit=ns`, per task for the /N forms,
the names micro_tasks.cpp's benchmarks have. Every repetition checks what it computed; a wrong
result ends the program with status 1.

  gather_vector/N   N tasks that each sleep(0) once, gathered: per task
  gather_tuple      gather of 3 coroutines that return at once
  wait_for          wait_for of a coroutine that finishes in time
  timeout_scope     async with asyncio.timeout(1): await of a coroutine that returns at once
  task_group/N      a TaskGroup with N children that each sleep(0) once: per task
"""
import argparse
import asyncio
import sys
import time


async def yield_once(i):
    await asyncio.sleep(0)
    return i


async def at_once(i):
    return i


def check(what, got, expected):
    if got != expected:
        sys.exit(f"micro_tasks.py: {what} computed {got!r}, expected {expected!r}")


async def gather_vector(n):
    tasks = [asyncio.create_task(yield_once(i)) for i in range(n)]
    check("gather_vector", sum(await asyncio.gather(*tasks)), n * (n - 1) // 2)


async def gather_tuple(_):
    check("gather_tuple", await asyncio.gather(at_once(1), at_once(2), at_once(3)), [1, 2, 3])


async def wait_for(_):
    check("wait_for", await asyncio.wait_for(yield_once(1), 1), 1)


async def timeout_scope(_):
    async with asyncio.timeout(1):
        r = await at_once(1)
    check("timeout_scope", r, 1)


async def task_group(n):
    ran = 0

    async def count_once():
        nonlocal ran
        await asyncio.sleep(0)
        ran += 1

    async with asyncio.TaskGroup() as tg:
        for _ in range(n):
            tg.create_task(count_once())
    check("task_group", ran, n)


async def measure(body, n, min_seconds):
    iterations = 0
    t0 = time.perf_counter()
    while True:
        await body(n)
        iterations += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds:
            return elapsed * 1e9 / (iterations * max(n, 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-seconds", type=float, default=0.5)
    parser.add_argument("--uvloop", action="store_true", help="install uvloop's event loop")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop
        uvloop.install()
    for name, body, n in [("gather_vector/1000", gather_vector, 1000),
                          ("gather_vector/100000", gather_vector, 100000),
                          ("gather_tuple", gather_tuple, 0),
                          ("wait_for", wait_for, 0),
                          ("timeout_scope", timeout_scope, 0),
                          ("task_group/1000", task_group, 1000),
                          ("task_group/100000", task_group, 100000)]:
        ns = asyncio.run(measure(body, n, args.min_seconds))
        print(f"{name}={ns:.1f} unit=ns", flush=True)


if __name__ == "__main__":
    main()
