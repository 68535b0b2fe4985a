# Twin of tests/test_locks.cpp's barrier_cancel_waiting.
import asyncio
from twin import *
from _barrier_common import barrier_user


async def main():
    tk = Ticker()
    b = asyncio.Barrier(2)
    ts = [asyncio.create_task(barrier_user(tk, b, "A"))]
    await asyncio.sleep(0)
    ts[0].cancel()
    await wait_all(ts)
    say(tk, r(b))
    ts = [asyncio.create_task(barrier_user(tk, b, n)) for n in "BC"]
    await wait_all(ts)
    say(tk, r(b))
    try:
        asyncio.Barrier(0)
    except ValueError as e:
        say(tk, f"ValueError: {e}")
    tk.stop()


run(main)
