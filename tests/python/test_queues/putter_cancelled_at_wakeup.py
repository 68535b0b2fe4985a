# Twin of tests/test_queues.cpp's putter_cancelled_at_wakeup.
import asyncio
from twin import *
from _queue_common import putter


async def main():
    tk = Ticker()
    q = asyncio.Queue(1)
    q.put_nowait("x")
    ts = [asyncio.create_task(putter(tk, q, n, v)) for n, v in [("A", "a"), ("B", "b"), ("C", "c")]]
    await asyncio.sleep(0)
    say(tk, "main got " + q.get_nowait())  # wakes A
    ts[0].cancel()  # A is cancelled at its wake-up: the slot goes to B
    say(tk, r(q))
    await asyncio.sleep(0)
    say(tk, r(q))
    say(tk, "main got " + await q.get())
    await wait_all(ts)
    say(tk, r(q) + " A.cancelled=" + tf(ts[0].cancelled()))
    tk.stop()


run(main)
