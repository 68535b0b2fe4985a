# What the Barrier twins share (tests/test_locks.cpp's barrier_user).
import asyncio
from twin import say, r


async def barrier_user(tk, b, name, rounds=1):
    try:
        for i in range(rounds):
            idx = await b.wait()
            say(tk, f"{name} passed round {i} index {idx}")
    except asyncio.BrokenBarrierError as e:
        say(tk, f"{name} BrokenBarrierError: {e}")
    except asyncio.CancelledError:
        say(tk, f"{name} cancelled {r(b)}")
        raise
