# What the Condition twins share (tests/test_locks.cpp's cond_waiter).
import asyncio
from twin import say, tf


async def cond_waiter(tk, cond, name):
    try:
        async with cond:
            say(tk, name + " waits")
            v = await cond.wait()
            say(tk, name + " notified " + tf(v) + " locked=" + tf(cond.locked()))
            await asyncio.sleep(0)
    except asyncio.CancelledError:
        say(tk, name + " cancelled locked=" + tf(cond.locked()))
        raise
