"""executors_bench.cpp's twin: what an executor costs in CPython's concurrent.futures.

    python3 bench/anchors/executors_bench.py [rounds] [--start-method fork|spawn|forkserver]

Prints one line per figure, `name=<value> unit=us`, the same names as executors_bench.cpp
(medians over several repetitions), and checks every result it computed: a wrong one ends the
program with status 1 before any figure is believed (bench/README.md, "Executors").
"""
import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def add(a, b):
    return a + b


def big_result(bits):
    # A result the size of factorial(10000): 118445 bits, 14.8 KB.
    return 1 << bits


def us_since(t):
    return (time.perf_counter() - t) * 1e6


def median_of(repetitions, measure):
    return statistics.median_low([measure() for _ in range(repetitions)])


def report(name, us):
    print(f"{name}={us:.1f} unit=us", flush=True)


def check(what, got, expected):
    if got != expected:
        sys.exit(f"executors_bench.py: {what} returned {got!r}, expected {expected!r}")


def round_trips(pool, rounds):
    t = time.perf_counter()
    for i in range(rounds):
        check("add", pool.submit(add, i, 1).result(), i + 1)
    return us_since(t) / rounds


def per_call_in_map(pool, xs):
    t = time.perf_counter()
    r = list(pool.map(add, xs, xs))
    us = us_since(t) / len(xs)
    check("map(add)", r, [2 * x for x in xs])
    return us


async def await_round_trips(pool, rounds):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(pool, add, 0, 0)  # started
    t = time.perf_counter()
    for i in range(rounds):
        check("run_in_executor(add)", await loop.run_in_executor(pool, add, i, 1), i + 1)
    return us_since(t) / rounds


def startup(make, first_only):
    def measure():
        t = time.perf_counter()
        pool = make()
        check("add", pool.submit(add, 1, 2).result(), 3)
        us = us_since(t)
        pool.shutdown(wait=True)
        return us if first_only else us_since(t)
    return measure


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", nargs="?", type=int, default=200)
    parser.add_argument("--start-method", default="fork", choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    rounds = args.rounds
    ctx = multiprocessing.get_context(args.start_method)
    cores = os.cpu_count() or 1

    report("thread_pool_startup_first_call", median_of(15, startup(lambda: ThreadPoolExecutor(1), True)))
    report("thread_pool_startup_and_shutdown", median_of(15, startup(lambda: ThreadPoolExecutor(1), False)))
    report("process_pool_startup_first_call",
           median_of(9, startup(lambda: ProcessPoolExecutor(1, mp_context=ctx), True)))
    report("process_pool_startup_and_shutdown",
           median_of(9, startup(lambda: ProcessPoolExecutor(1, mp_context=ctx), False)))

    def all_workers():
        t = time.perf_counter()
        with ProcessPoolExecutor(cores, mp_context=ctx) as pool:
            xs = [1] * cores
            check("map(add)", list(pool.map(add, xs, xs)), [2] * cores)
            return us_since(t)
    report("process_pool_all_workers_started", median_of(9, all_workers))

    with ThreadPoolExecutor(1) as pool:
        pool.submit(add, 0, 0).result()
        report("thread_pool_round_trip", median_of(5, lambda: round_trips(pool, rounds)))
    with ThreadPoolExecutor(cores) as pool:
        xs = [1] * (rounds * 10)
        pool.submit(add, 0, 0).result()
        report("thread_pool_per_call_in_map", median_of(5, lambda: per_call_in_map(pool, xs)))
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        pool.submit(add, 0, 0).result()
        report("process_pool_round_trip", median_of(5, lambda: round_trips(pool, rounds)))

        def big():
            t = time.perf_counter()
            for _ in range(rounds):
                check("big_result", pool.submit(big_result, 118444).result().bit_length(), 118445)
            return us_since(t) / rounds
        report("process_pool_round_trip_15KB_result", median_of(5, big))
    with ProcessPoolExecutor(cores, mp_context=ctx) as pool:
        xs = [1] * (rounds * 10)
        list(pool.map(add, [0] * cores, [0] * cores))
        report("process_pool_per_call_in_map", median_of(5, lambda: per_call_in_map(pool, xs)))

    with ThreadPoolExecutor(1) as pool:
        report("run_in_executor_thread_round_trip",
               median_of(5, lambda: asyncio.run(await_round_trips(pool, rounds))))
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        report("run_in_executor_process_round_trip",
               median_of(5, lambda: asyncio.run(await_round_trips(pool, rounds))))


if __name__ == "__main__":
    main()
