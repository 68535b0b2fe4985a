# Twin of tests/test_locks.cpp's sem_release_burst.
import asyncio
from twin import *
from _sem_common import sem_user


async def main():
    tk = Ticker()
    sem = asyncio.Semaphore(0)
    ts = [asyncio.create_task(sem_user(tk, sem, n)) for n in "ABCDEF"]
    await asyncio.sleep(0)
    for _ in range(3):
        sem.release()  # A, B and C woken in one burst, none resumed yet
    say(tk, r(sem))
    ts[1].cancel()  # B, woken: its permit goes on to the next waiter not woken
    ts[3].cancel()  # D, the next waiter not woken: cancelled while waiting
    ts.append(asyncio.create_task(sem_user(tk, sem, "G")))  # queues behind F
    await asyncio.sleep(0)
    say(tk, r(sem))
    sem.release()
    sem.release()
    say(tk, r(sem))
    await wait_all(ts)
    say(tk, r(sem) + " B.cancelled=" + tf(ts[1].cancelled()) + " D.cancelled=" + tf(ts[3].cancelled()))
    tk.stop()


run(main)
