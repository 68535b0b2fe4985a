# python: 3.13
# Twin of tests/test_queues.cpp's shutdown_immediate_releases_join (3.13's Queue.shutdown).
import asyncio
from twin import *
from _queue_common import getter, joiner


async def main():
    tk = Ticker()
    q = asyncio.Queue()
    for i in range(3):
        q.put_nowait(i)
    j = asyncio.create_task(joiner(tk, q, ""))
    await asyncio.sleep(0)
    say(tk, r(q))
    q.shutdown(immediate=True)
    say(tk, r(q))
    ts = [asyncio.create_task(getter(tk, q, "A")), j]
    await wait_all(ts)
    tk.stop()


run(main)
