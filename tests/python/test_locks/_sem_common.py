# What the Semaphore twins share (tests/test_locks.cpp's sem_user).
import asyncio
from twin import say, r


async def sem_user(tk, sem, name, hold=1):
    try:
        async with sem:
            say(tk, name + " acquired " + r(sem))
            for _ in range(hold):
                await asyncio.sleep(0)
    except asyncio.CancelledError:
        say(tk, name + " cancelled")
        raise
