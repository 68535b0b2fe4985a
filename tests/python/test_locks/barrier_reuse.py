# Twin of tests/test_locks.cpp's barrier_reuse.
import asyncio
from twin import *
from _barrier_common import barrier_user


async def main():
    tk = Ticker()
    b = asyncio.Barrier(3)
    say(tk, r(b))
    ts = [asyncio.create_task(barrier_user(tk, b, n, 2)) for n in "ABC"]
    await asyncio.sleep(0)
    say(tk, r(b))
    await asyncio.sleep(0)
    say(tk, r(b))
    await wait_all(ts)
    say(tk, r(b))
    tk.stop()


run(main)
