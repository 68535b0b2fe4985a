# Twin of tests/test_coroutines.cpp Coro.AResultWithoutDefaultConstructorIsMovedOutAndDestroyedOnce.
# Prints "7" then "cancelled True" (python3 3.11): a task that cancels itself in
# its last step ends cancelled and its return value is dropped.
import asyncio


async def make_live(v):
    return v


async def cancel_self_then_return():
    asyncio.current_task().cancel()
    return 9


async def main():
    a = await make_live(7)
    print(a)
    t = asyncio.create_task(cancel_self_then_return())
    try:
        await t
    except asyncio.CancelledError:
        print("cancelled", t.cancelled())


asyncio.run(main())
