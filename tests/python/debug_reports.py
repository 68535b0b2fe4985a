# The Python twin of tests/test_debug.cpp (debug mode's reports; CPython 3.11).
# Run: python3 tests/python/debug_reports.py   (prints on stderr; paths and
# CPython's own frames differ per machine, the wording is what the test keeps)
#   Task exception was never retrieved
#   future: <Task finished name='failing' coro=<fail() done, defined at ...:15> exception=ValueError('boom')
#           created at .../asyncio/tasks.py:384>
#   source_traceback: Object created at (most recent call last):
#     ... File "...debug_reports.py", line 27, in main ...
#   ...debug_reports.py:31: RuntimeWarning: coroutine 'forgotten' was never awaited
#   Coroutine created at (most recent call last) ... File "...debug_reports.py", line 30, in main
#   Executing <Task finished name='cruncher' coro=<crunch() done, defined at ...:22> result=None
#             created at .../asyncio/tasks.py:384> took 0.120 seconds
import asyncio, time

async def fail():
    await asyncio.sleep(0)
    raise ValueError('boom')

async def forgotten():
    pass

async def crunch():
    await asyncio.sleep(0)
    time.sleep(0.12)  # CPU-bound work in a coroutine: the loop waits

async def main():
    t = asyncio.create_task(fail(), name='failing')
    del t
    await asyncio.sleep(0.01)
    c = forgotten()
    del c
    await asyncio.create_task(crunch(), name='cruncher')

asyncio.run(main(), debug=True)
