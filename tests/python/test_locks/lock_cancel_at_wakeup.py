# Twin of tests/test_locks.cpp's lock_cancel_at_wakeup.
import asyncio
from twin import *
from _lock_common import lock_cancellable


async def main():
    tk = Ticker()
    lock = asyncio.Lock()
    await lock.acquire()
    ts = [asyncio.create_task(lock_cancellable(tk, lock, n, True)) for n in "ABC"]
    await asyncio.sleep(0)
    lock.release()  # wakes A
    ts[0].cancel()  # A is cancelled at the moment of its wake-up
    say(tk, r(lock))
    ts.append(asyncio.create_task(lock_cancellable(tk, lock, "D", True)))  # cannot jump the queue
    await wait_all(ts)
    say(tk, "locked=" + tf(lock.locked()) + " A.cancelled=" + tf(ts[0].cancelled()))
    tk.stop()


run(main)
