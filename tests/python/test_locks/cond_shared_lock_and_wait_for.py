# Twin of tests/test_locks.cpp's cond_shared_lock_and_wait_for.
import asyncio
from twin import *


async def cond_consumer(tk, cond, items, name):
    async with cond:
        v = await cond.wait_for(lambda: len(items))
        say(tk, f"{name} predicate={v} took {items[0]}")
        del items[0]


async def main():
    tk = Ticker()
    lock = asyncio.Lock()
    cond = asyncio.Condition(lock)
    items = []
    ts = [asyncio.create_task(cond_consumer(tk, cond, items, n)) for n in "AB"]
    await asyncio.sleep(0)
    async with lock:
        say(tk, "cond.locked=" + tf(cond.locked()))
        items.append("x")
        cond.notify_all()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    say(tk, r(cond))
    async with cond:
        items.append("y")
        cond.notify()
    await wait_all(ts)
    tk.stop()


run(main)
