# Twin of tests/test_locks.cpp's cond_notify_counts.
import asyncio
from twin import *
from _cond_common import cond_waiter


async def main():
    tk = Ticker()
    cond = asyncio.Condition()
    ts = [asyncio.create_task(cond_waiter(tk, cond, n)) for n in "ABCDE"]
    await asyncio.sleep(0)
    say(tk, r(cond))
    async with cond:
        cond.notify(2)
        say(tk, r(cond))
    say(tk, "main released")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    say(tk, r(cond))
    async with cond:
        cond.notify(0)
        cond.notify_all()
        say(tk, r(cond))
    await wait_all(ts)
    say(tk, r(cond))
    tk.stop()


run(main)
