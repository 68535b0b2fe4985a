# python: 3.13
# Twin of tests/test_queues.cpp's shutdown_wakes_everyone (Queue.shutdown is new in 3.13).
import asyncio
from twin import *
from _queue_common import getter, putter


async def main():
    tk = Ticker()
    q = asyncio.Queue(1)
    gs = [asyncio.create_task(getter(tk, q, n)) for n in "AB"]
    await asyncio.sleep(0)
    q.put_nowait("1")  # wakes A
    ps = [asyncio.create_task(putter(tk, q, n, v)) for n, v in [("C", "c"), ("D", "d")]]
    await asyncio.sleep(0)
    say(tk, r(q))
    q.shutdown()
    say(tk, r(q))
    await wait_all(gs)
    await wait_all(ps)
    say(tk, r(q))
    try:
        q.put_nowait("5")
    except asyncio.QueueShutDown:
        say(tk, "put_nowait: QueueShutDown")
    try:
        q.get_nowait()
    except asyncio.QueueShutDown:
        say(tk, "get_nowait: QueueShutDown")
    tk.stop()


run(main)
