# Twin of tests/test_queues.cpp's woken_getter_robbed.
import asyncio
from twin import *
from _queue_common import getter


async def main():
    tk = Ticker()
    q = asyncio.Queue()
    ts = [asyncio.create_task(getter(tk, q, n)) for n in "AB"]
    await asyncio.sleep(0)
    q.put_nowait(1)  # wakes A
    say(tk, f"main took {q.get_nowait()} first")  # before A runs
    say(tk, r(q))
    await asyncio.sleep(0)
    say(tk, r(q))  # A waits again, behind B
    q.put_nowait(2)
    q.put_nowait(3)
    await wait_all(ts)
    tk.stop()


run(main)
