# Twin of tests/test_locks.cpp's sem_bounded.
import asyncio
from twin import *


async def main():
    b = asyncio.BoundedSemaphore(2)
    await b.acquire()
    note(r(b))
    b.release()
    try:
        b.release()
    except ValueError as e:
        note(f"ValueError: {e}")
    note(r(b))
    try:
        asyncio.Semaphore(-1)
    except ValueError as e:
        note(f"ValueError: {e}")
    async with b:
        note(r(b))
    note(r(b))


run(main)
