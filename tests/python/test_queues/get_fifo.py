# Twin of tests/test_queues.cpp's get_fifo.
import asyncio
from twin import *
from _queue_common import getter


async def main():
    tk = Ticker()
    q = asyncio.Queue()
    ts = [asyncio.create_task(getter(tk, q, n)) for n in "ABC"]
    await asyncio.sleep(0)
    say(tk, r(q))
    q.put_nowait(1)
    say(tk, r(q))
    q.put_nowait(2)
    q.put_nowait(3)
    say(tk, r(q))
    await wait_all(ts)
    say(tk, r(q))
    tk.stop()


run(main)
