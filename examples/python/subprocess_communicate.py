# Send input to a child and collect its output with communicate(): tr turns
# what it reads into upper case; wc counts a megabyte that is far more than a
# pipe holds, without deadlock.
import asyncio

PIPE = asyncio.subprocess.PIPE


async def main():
    proc = await asyncio.create_subprocess_exec('tr', 'a-z', 'A-Z', stdin=PIPE, stdout=PIPE)
    stdout, _ = await proc.communicate(b'hello from the parent\n')
    print(f'tr said: {stdout.decode().rstrip()} (exit {proc.returncode})')

    proc = await asyncio.create_subprocess_exec('wc', '-c', stdin=PIPE, stdout=PIPE)
    stdout, _ = await proc.communicate(b'x' * 1_000_000)
    print(f'wc counted {int(stdout)} bytes (exit {proc.returncode})')


asyncio.run(main())
