# python: 3.13
# Twin of tests/test_queues.cpp's shutdown_immediate_with_putters (3.13's Queue.shutdown).
import asyncio
from twin import *
from _queue_common import putter


async def main():
    tk = Ticker()
    q = asyncio.Queue(1)
    q.put_nowait("x")
    ps = [asyncio.create_task(putter(tk, q, n, v)) for n, v in [("A", "a"), ("B", "b")]]
    await asyncio.sleep(0)
    q.shutdown(immediate=True)
    say(tk, r(q))
    await wait_all(ps)
    say(tk, r(q) + " empty=" + tf(q.empty()))
    tk.stop()


run(main)
