# Twin of tests/test_locks.cpp's barrier_abort_and_reset.
import asyncio
from twin import *
from _barrier_common import barrier_user


async def main():
    tk = Ticker()
    b = asyncio.Barrier(3)
    ts = [asyncio.create_task(barrier_user(tk, b, n)) for n in "AB"]
    await asyncio.sleep(0)
    say(tk, r(b))
    await b.abort()
    say(tk, r(b) + " broken=" + tf(b.broken))
    await wait_all(ts)
    try:
        await b.wait()
    except asyncio.BrokenBarrierError as e:
        say(tk, f"main BrokenBarrierError: {e}")
    await b.reset()
    say(tk, r(b))
    ts = [asyncio.create_task(barrier_user(tk, b, n)) for n in "CD"]
    await asyncio.sleep(0)
    say(tk, r(b))
    await b.reset()
    say(tk, r(b))
    await wait_all(ts)
    say(tk, r(b))
    ts = [asyncio.create_task(barrier_user(tk, b, n)) for n in "EFG"]
    await wait_all(ts)
    say(tk, r(b) + f" parties={b.parties} n_waiting={b.n_waiting}")
    tk.stop()


run(main)
