# Twin of tests/test_queues.cpp's woken_putter_robbed.
import asyncio
from twin import *
from _queue_common import putter


async def main():
    tk = Ticker()
    q = asyncio.Queue(1)
    q.put_nowait("x")
    ts = [asyncio.create_task(putter(tk, q, n, v)) for n, v in [("A", "a"), ("B", "b")]]
    await asyncio.sleep(0)
    say(tk, "main got " + q.get_nowait())  # wakes A
    q.put_nowait("m")  # main takes the slot first
    say(tk, r(q))
    await asyncio.sleep(0)
    say(tk, r(q))
    for _ in range(3):
        say(tk, "main got " + await q.get())
    await wait_all(ts)
    tk.stop()


run(main)
