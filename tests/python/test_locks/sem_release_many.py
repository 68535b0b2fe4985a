# Twin of tests/test_locks.cpp's sem_release_many.
import asyncio
from twin import *
from _sem_common import sem_user


async def main():
    tk = Ticker()
    sem = asyncio.Semaphore(0)
    ts = [asyncio.create_task(sem_user(tk, sem, n)) for n in "ABC"]
    await asyncio.sleep(0)
    sem.release()
    sem.release()
    say(tk, r(sem))
    await wait_all(ts[:2])
    say(tk, r(sem))
    sem.release()
    await wait_all(ts)
    say(tk, r(sem))
    tk.stop()


run(main)
