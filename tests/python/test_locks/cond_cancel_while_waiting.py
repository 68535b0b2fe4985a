# Twin of tests/test_locks.cpp's cond_cancel_while_waiting.
import asyncio
from twin import *
from _cond_common import cond_waiter


async def main():
    tk = Ticker()
    cond = asyncio.Condition()
    ts = [asyncio.create_task(cond_waiter(tk, cond, n)) for n in "AB"]
    await asyncio.sleep(0)
    await cond.acquire()
    ts[0].cancel()
    say(tk, "main holds the lock; A cancelled")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    say(tk, r(cond))
    cond.release()
    say(tk, "main released")
    await asyncio.sleep(0)
    say(tk, r(cond))
    async with cond:
        cond.notify()
    await wait_all(ts)
    say(tk, "A.cancelled=" + tf(ts[0].cancelled()))
    tk.stop()


run(main)
