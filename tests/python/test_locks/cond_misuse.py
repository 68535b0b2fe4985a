# Twin of tests/test_locks.cpp's cond_misuse.
import asyncio
from twin import *


async def main():
    cond = asyncio.Condition()
    try:
        await cond.wait()
    except RuntimeError as e:
        note(f"wait: RuntimeError: {e}")
    try:
        cond.notify()
    except RuntimeError as e:
        note(f"notify: RuntimeError: {e}")
    try:
        cond.notify_all()
    except RuntimeError as e:
        note(f"notify_all: RuntimeError: {e}")


run(main)
