# The Python twin of the StreamReader limit tests in tests/test_streams.cpp (CPython 3.11;
# the tuple-separator case needs 3.13). Run: python3 tests/python/streams_reader.py
# Prints:
#   LimitOverrunError(...not found, and chunk exceed the limit) 8 ...; ...found, but chunk is longer than limit 8;
#   ValueError(...); b"xy\n"; IncompleteReadError(1 bytes read on a total of 5 expected bytes) b"c" 5
import asyncio
async def main():
    r = asyncio.StreamReader(limit=5); r.feed_data(b'abcdefgh')
    try: await r.readuntil(b'\n')
    except asyncio.LimitOverrunError as e: print(repr(e), e.consumed, bytes(r._buffer))
    r.feed_data(b'\n')
    try: await r.readuntil(b'\n')
    except asyncio.LimitOverrunError as e: print(repr(e), e.consumed)
    r = asyncio.StreamReader(limit=3); r.feed_data(b'abcdef\nxy\n')
    try: await r.readline()
    except ValueError as e: print(repr(e))
    print(await r.readline())
    r = asyncio.StreamReader(); r.feed_data(b'abc'); await r.readexactly(2); r.feed_eof()
    try: await r.readexactly(5)
    except asyncio.IncompleteReadError as e: print(repr(e), e.partial, e.expected)
asyncio.run(main())
