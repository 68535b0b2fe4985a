# Twin of tests/test_queues.cpp's join_task_done.
import asyncio
from twin import *
from _queue_common import joiner


async def main():
    tk = Ticker()
    q = asyncio.Queue()
    j0 = asyncio.create_task(joiner(tk, q, "J0"))
    await asyncio.sleep(0)
    say(tk, "J0.done=" + tf(j0.done()))
    q.put_nowait(1)
    q.put_nowait(2)
    ts = [asyncio.create_task(joiner(tk, q, n)) for n in ("J1", "J2")]
    await asyncio.sleep(0)
    say(tk, r(q))
    q.get_nowait()
    q.task_done()
    say(tk, r(q))
    q.get_nowait()
    await asyncio.sleep(0)
    say(tk, f"unfinished {q._unfinished_tasks}")
    q.task_done()
    say(tk, r(q))
    await wait_all(ts)
    try:
        q.task_done()
    except ValueError as e:
        say(tk, f"ValueError: {e}")
    tk.stop()


run(main)
