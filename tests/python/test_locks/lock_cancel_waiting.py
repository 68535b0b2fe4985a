# Twin of tests/test_locks.cpp's lock_cancel_waiting.
import asyncio
from twin import *
from _lock_common import lock_cancellable


async def main():
    tk = Ticker()
    lock = asyncio.Lock()
    await lock.acquire()
    ts = [asyncio.create_task(lock_cancellable(tk, lock, n, False)) for n in "ABC"]
    await asyncio.sleep(0)
    ts[1].cancel()
    await asyncio.sleep(0)
    say(tk, r(lock))
    lock.release()
    await wait_all(ts)
    say(tk, "locked=" + tf(lock.locked()))
    tk.stop()


run(main)
