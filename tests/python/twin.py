"""What the Python twins of tests/test_locks.cpp and tests/test_queues.cpp share:
the same helpers as tests/scenario.hpp, so that each twin prints, line for line,
the log its C++ scenario compares with tests/python/<test file>/<scenario>.out.

A twin is run from its own directory's parent (tools/twins.py puts this directory
on sys.path): `from twin import *`, write `async def main()`, end with `run(main)`.
"""
import asyncio
import re

__all__ = ["Ticker", "say", "note", "r", "tf", "wait_all", "run"]

_log = []


class Ticker:
    """Counts loop iterations: a callback that reschedules itself with
    call_soon, so it runs exactly once per iteration (scenario::Ticker)."""

    def __init__(self):
        self.n = 0
        self.on = True
        asyncio.get_running_loop().call_soon(self.tick)

    def tick(self):
        if not self.on:
            return
        self.n += 1
        asyncio.get_running_loop().call_soon(self.tick)

    def stop(self):
        self.on = False


def say(tk, s):
    _log.append(f"{tk.n}: {s}")


def note(s):
    _log.append(s)


def r(x):
    """repr without the address (scenario::r)."""
    return re.sub(r" at 0x[0-9a-f]+", "", repr(x))


def tf(b):
    return "True" if b else "False"


async def wait_all(tasks):
    """Awaits each task in turn, ignoring how it ended (scenario::wait_all)."""
    for t in tasks:
        try:
            await t
        except BaseException:
            pass


async def _watchdog(main):
    # The C++ scenario's watchdog waits an hour of virtual time; a twin runs on
    # the real clock and needs no timer, so ten seconds mean a deadlock.
    await asyncio.sleep(10)
    print("the scenario is still running after 10 s: cancelled")
    main.cancel()


async def _guarded(coro):
    task = asyncio.create_task(coro)
    dog = asyncio.create_task(_watchdog(task))
    try:
        await task
    finally:
        dog.cancel()


def run(main):
    """scenario::run: runs main() under a watchdog and prints the log."""
    _log.clear()
    asyncio.run(_guarded(main()))
    for line in _log:
        print(line)
