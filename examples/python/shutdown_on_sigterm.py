# A server-style program that shuts down cleanly on SIGTERM: workers run until
# the signal arrives, then main cancels them, each cleans up, and the program
# exits 0. Its test sends SIGTERM once the first line is out.
import asyncio
import signal
import sys


async def worker(name, started):
    print(f'{name}: serving')
    sys.stdout.flush()
    started.release()
    try:
        while True:
            await asyncio.sleep(3600)
    finally:
        print(f'{name}: closed its connections')


async def main():
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    started = asyncio.Semaphore(0)
    workers = [asyncio.create_task(worker(f'worker {i}', started)) for i in (1, 2)]
    for _ in workers:
        await started.acquire()
    print('ready: send SIGTERM to stop')
    sys.stdout.flush()
    await stop.wait()
    print('SIGTERM received: shutting down')
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    loop.remove_signal_handler(signal.SIGTERM)
    print('bye')


asyncio.run(main())
