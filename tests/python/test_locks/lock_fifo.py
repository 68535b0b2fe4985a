# Twin of tests/test_locks.cpp's lock_fifo.
import asyncio
from twin import *


async def lock_user(tk, lock, name):
    say(tk, name + " waits")
    async with lock:
        say(tk, name + " acquired")
        await asyncio.sleep(0)
    say(tk, name + " released")


async def main():
    tk = Ticker()
    lock = asyncio.Lock()
    await lock.acquire()
    ts = [asyncio.create_task(lock_user(tk, lock, n)) for n in "ABC"]
    await asyncio.sleep(0)
    say(tk, r(lock))
    lock.release()
    say(tk, "main released")
    await wait_all(ts)
    say(tk, r(lock))
    tk.stop()


run(main)
