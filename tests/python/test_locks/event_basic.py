# Twin of tests/test_locks.cpp's event_basic.
import asyncio
from twin import *
from _event_common import event_waiter


async def main():
    tk = Ticker()
    ev = asyncio.Event()
    ts = [asyncio.create_task(event_waiter(tk, ev, n)) for n in "ABC"]
    await asyncio.sleep(0)
    say(tk, r(ev))
    ts[1].cancel()
    await asyncio.sleep(0)
    say(tk, r(ev))
    ev.set()
    ev.set()
    say(tk, r(ev))
    await wait_all(ts)
    say(tk, r(ev))
    await ev.wait()
    say(tk, "wait on a set event returns at once")
    ev.clear()
    say(tk, r(ev))
    tk.stop()


run(main)
