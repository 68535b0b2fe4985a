# What the Queue twins share (tests/test_queues.cpp's getter, putter, joiner).
import asyncio
from twin import say


async def getter(tk, q, name):
    try:
        v = await q.get()
        say(tk, f"{name} got {v}")
    except asyncio.CancelledError:
        say(tk, name + " cancelled")
        raise
    except getattr(asyncio, "QueueShutDown", ()):
        say(tk, name + " QueueShutDown")


async def putter(tk, q, name, v):
    try:
        await q.put(v)
        say(tk, f"{name} put {v}")
    except asyncio.CancelledError:
        say(tk, name + " cancelled")
        raise
    except getattr(asyncio, "QueueShutDown", ()):
        say(tk, name + " QueueShutDown")


async def joiner(tk, q, name):
    await q.join()
    say(tk, name + " joined")
