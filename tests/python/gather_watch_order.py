# Twin of tests/test_tasks_combinators.cpp Gather.ItsCallOnAChildKeepsItsPlaceAmongTheChildsCallbacks.
# gather's _done_callback on a task child runs in registration order with the
# child's other callbacks (registered after gather's, or before), and a child
# may be gathered twice by one gather and by several gathers.
# Prints (python3 3.11):
#   ['user sees gather done: True', 'gather callback'] [1]
#   ['before sees gather done: False', 'after sees gather done: True'] [2]
#   [3] [3, 3] [3]
import asyncio

async def child(v):
    await asyncio.sleep(0)
    return v

async def main():
    got = []
    t = asyncio.create_task(child(1))
    g = asyncio.gather(t)  # gather's call first, then the user's
    t.add_done_callback(lambda f: got.append(f"user sees gather done: {g.done()}"))
    g.add_done_callback(lambda f: got.append("gather callback"))
    print(got, await g)

    got = []
    u = asyncio.create_task(child(2))
    u.add_done_callback(lambda f: got.append(f"before sees gather done: {h.done()}"))
    h = asyncio.gather(u)  # after the user's
    u.add_done_callback(lambda f: got.append(f"after sees gather done: {h.done()}"))
    print(got, await h)

    v = asyncio.create_task(child(3))
    g1 = asyncio.gather(v)
    g2 = asyncio.gather(v, v)
    g3 = asyncio.gather(v)
    print(await g1, await g2, await g3)

asyncio.run(main())
