# Twin of tests/test_locks.cpp's sem_cancel_at_wakeup.
import asyncio
from twin import *
from _sem_common import sem_user


async def main():
    tk = Ticker()
    sem = asyncio.Semaphore(0)
    ts = [asyncio.create_task(sem_user(tk, sem, n)) for n in "ABC"]
    await asyncio.sleep(0)
    sem.release()  # A is handed the permit
    say(tk, r(sem))
    ts[0].cancel()  # A is cancelled at the moment of its wake-up: the permit goes on
    ts.append(asyncio.create_task(sem_user(tk, sem, "D")))  # cannot take it first
    await wait_all(ts)
    say(tk, r(sem) + " A.cancelled=" + tf(ts[0].cancelled()))
    tk.stop()


run(main)
