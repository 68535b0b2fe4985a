# Twin of tests/test_queues.cpp's getter_cancelled_at_wakeup.
import asyncio
from twin import *
from _queue_common import getter


async def main():
    tk = Ticker()
    q = asyncio.Queue()
    ts = [asyncio.create_task(getter(tk, q, n)) for n in "ABC"]
    await asyncio.sleep(0)
    q.put_nowait(1)  # wakes A
    ts[0].cancel()  # A is cancelled at the moment of its wake-up: 1 goes to B
    say(tk, r(q))
    await asyncio.sleep(0)
    say(tk, r(q))
    q.put_nowait(2)
    await wait_all(ts)
    say(tk, r(q) + " A.cancelled=" + tf(ts[0].cancelled()))
    tk.stop()


run(main)
