# Twin of tests/test_locks.cpp's sem_fifo.
import asyncio
from twin import *
from _sem_common import sem_user


async def main():
    tk = Ticker()
    sem = asyncio.Semaphore(2)
    say(tk, r(sem))
    ts = [asyncio.create_task(sem_user(tk, sem, n, 2)) for n in "ABCDE"]
    await asyncio.sleep(0)
    say(tk, r(sem))
    await wait_all(ts)
    say(tk, r(sem))
    tk.stop()


run(main)
