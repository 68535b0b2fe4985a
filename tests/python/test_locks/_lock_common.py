# What the Lock twins share (tests/test_locks.cpp's lock_cancellable).
import asyncio
from twin import say


async def lock_cancellable(tk, lock, name, yield_):
    try:
        async with lock:
            say(tk, name + " acquired")
            if yield_:
                await asyncio.sleep(0)
    except asyncio.CancelledError:
        say(tk, name + " cancelled")
        raise
