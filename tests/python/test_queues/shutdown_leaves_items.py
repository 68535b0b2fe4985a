# python: 3.13
# Twin of tests/test_queues.cpp's shutdown_leaves_items (Queue.shutdown is new in 3.13).
import asyncio
from twin import *


async def main():
    tk = Ticker()
    q = asyncio.Queue()
    for i in range(3):
        q.put_nowait(i)
    q.shutdown()
    say(tk, r(q))
    a = await q.get()
    b = q.get_nowait()
    say(tk, f"got {a} {b}")
    try:
        await q.put(9)
    except asyncio.QueueShutDown:
        say(tk, "put: QueueShutDown")
    q.task_done()
    q.task_done()
    say(tk, r(q))
    q.shutdown(immediate=True)
    say(tk, r(q))
    await q.join()
    say(tk, "joined")
    try:
        await q.get()
    except asyncio.QueueShutDown:
        say(tk, "get: QueueShutDown")
    tk.stop()


run(main)
