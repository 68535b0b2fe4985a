# Twin of tests/test_locks.cpp's event_cancel_at_wakeup.
import asyncio
from twin import *
from _event_common import event_waiter


async def main():
    tk = Ticker()
    ev = asyncio.Event()
    ts = [asyncio.create_task(event_waiter(tk, ev, n)) for n in "AB"]
    await asyncio.sleep(0)
    ev.set()
    ts[0].cancel()
    ev.clear()  # cleared before they run: both were woken anyway
    await wait_all(ts)
    say(tk, "A.cancelled=" + tf(ts[0].cancelled()) + " B.done=" + tf(ts[1].done()))
    tk.stop()


run(main)
