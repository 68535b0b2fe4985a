# Read a child's stdout line by line while it runs (the asyncio docs'
# "get_date" example, made to print several lines over time).
import asyncio
import sys

CHILD = 'for i in 1 2 3; do echo "tick $i"; sleep 0.2; done; echo done'


async def main():
    proc = await asyncio.create_subprocess_exec(
        '/bin/sh', '-c', CHILD,
        stdout=asyncio.subprocess.PIPE)

    while True:
        line = await proc.stdout.readline()
        if not line:
            break
        print(f'got: {line.decode().rstrip()}')
        sys.stdout.flush()

    returncode = await proc.wait()
    print(f'child exited with {returncode}')


asyncio.run(main())
