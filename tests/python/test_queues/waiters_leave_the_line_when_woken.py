# Twin of tests/test_queues.cpp's waiters_leave_the_line_when_woken.
# _wakeup_next pops the waiter it wakes (and the cancelled ones it passes) at
# once, before the woken task runs; a waiter cancelled while waiting stays in
# the line until its task runs or a wake-up passes it.
import asyncio
from twin import *
from _queue_common import getter, putter


async def main():
    tk = Ticker()
    q = asyncio.Queue()
    ts = [asyncio.create_task(getter(tk, q, n)) for n in "ABCD"]
    await asyncio.sleep(0)
    say(tk, r(q))
    q.put_nowait(1)  # wakes A: A leaves the line now
    say(tk, r(q))
    ts[1].cancel()  # B stays in the line until it runs
    say(tk, r(q))
    q.put_nowait(2)  # passes B (cancelled), wakes C
    say(tk, r(q))
    await asyncio.sleep(0)
    say(tk, r(q))  # A, B and C ran: D waits alone
    q.put_nowait(3)
    await wait_all(ts)
    full = asyncio.Queue(1)
    full.put_nowait(0)
    ps = [asyncio.create_task(putter(tk, full, n, i)) for i, n in enumerate("PQ", 1)]
    await asyncio.sleep(0)
    say(tk, r(full))
    say(tk, f"got {full.get_nowait()}")  # wakes P
    say(tk, r(full))
    await wait_all(ps[:1])
    say(tk, r(full))
    say(tk, f"got {full.get_nowait()}")  # wakes Q
    await wait_all(ps)
    say(tk, r(full))
    tk.stop()


run(main)
