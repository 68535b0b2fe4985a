# Twin of tests/test_queues.cpp's kinds.
import asyncio
from twin import *


def drain_into_log(q, name):
    for item in (3, 1, 4, 1, 5):
        q.put_nowait(item)
    note(r(q))
    note(f"{name}: [" + ", ".join(str(q.get_nowait()) for _ in range(q.qsize())) + "]")


async def main():
    drain_into_log(asyncio.Queue(), "Queue")
    drain_into_log(asyncio.LifoQueue(), "LifoQueue")
    drain_into_log(asyncio.PriorityQueue(), "PriorityQueue")
    s = asyncio.Queue()
    s.put_nowait("a")
    s.put_nowait("b")
    note(r(s))
    try:
        asyncio.Queue().get_nowait()
    except asyncio.QueueEmpty:
        note("QueueEmpty")
    one = asyncio.Queue(1)
    one.put_nowait(1)
    try:
        one.put_nowait(2)
    except asyncio.QueueFull:
        note("QueueFull")


run(main)
