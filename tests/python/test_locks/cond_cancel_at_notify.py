# python: 3.13
# Twin of tests/test_locks.cpp's cond_cancel_at_notify. CPython 3.11 and 3.12.1
# hang here: a waiter cancelled at the moment notify() woke it swallowed the
# notification (gh-112202, fixed in 3.13); the C++ library does what 3.13 does.
import asyncio
from twin import *
from _cond_common import cond_waiter


async def main():
    tk = Ticker()
    cond = asyncio.Condition()
    ts = [asyncio.create_task(cond_waiter(tk, cond, n)) for n in "ABC"]
    await asyncio.sleep(0)
    async with cond:
        cond.notify(1)  # wakes A
        ts[0].cancel()  # A is cancelled at the moment of its wake-up
        say(tk, r(cond))
    await wait_all(ts[:2])
    say(tk, r(cond))
    ts[2].cancel()
    await wait_all(ts[2:])
    tk.stop()


run(main)
