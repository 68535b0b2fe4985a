# Twin of tests/test_queues.cpp's getter_cancelled_while_waiting.
import asyncio
from twin import *
from _queue_common import getter


async def main():
    tk = Ticker()
    q = asyncio.Queue()
    ts = [asyncio.create_task(getter(tk, q, n)) for n in "AB"]
    await asyncio.sleep(0)
    ts[0].cancel()
    say(tk, r(q))
    q.put_nowait(1)  # A's getter is cancelled: B is woken
    say(tk, r(q))
    await wait_all(ts)
    say(tk, r(q))
    tk.stop()


run(main)
