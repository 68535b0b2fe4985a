# What the Event twins share (tests/test_locks.cpp's event_waiter).
import asyncio
from twin import say, tf


async def event_waiter(tk, ev, name):
    try:
        say(tk, name + " waits")
        v = await ev.wait()
        say(tk, name + " woke " + tf(v))
    except asyncio.CancelledError:
        say(tk, name + " cancelled")
        raise
