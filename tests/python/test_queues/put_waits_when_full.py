# Twin of tests/test_queues.cpp's put_waits_when_full.
import asyncio
from twin import *
from _queue_common import putter


async def main():
    tk = Ticker()
    q = asyncio.Queue(2)
    ts = [asyncio.create_task(putter(tk, q, n, v)) for n, v in [("A", "a"), ("B", "b"), ("C", "c"), ("D", "d")]]
    await asyncio.sleep(0)
    say(tk, r(q) + f" full={tf(q.full())} qsize={q.qsize()} maxsize={q.maxsize}")
    say(tk, "main got " + await q.get())
    say(tk, r(q))
    say(tk, "main got " + q.get_nowait())
    say(tk, r(q))
    await wait_all(ts)
    say(tk, r(q))
    tk.stop()


run(main)
