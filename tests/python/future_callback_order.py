# Twin of tests/test_futures.cpp Future.CallbacksKeepTheirOrderAfterRemovalsAtEitherEnd.
# Prints: "1 1", "['a', 'c', 'e']", "1", "['a', 'c', 'e', 'b', 'c']" (python3 3.11).
import asyncio
async def main():
    loop = asyncio.get_running_loop()
    f = loop.create_future()
    got = []
    def mk(tag):
        def cb(fut): got.append(tag)
        return cb
    a, b, c, d, e = (mk(t) for t in "abcde")
    for cb in (a, b, c, d): f.add_done_callback(cb)
    print(f.remove_done_callback(b), f.remove_done_callback(d))
    f.add_done_callback(e)
    f.set_result(1)
    await asyncio.sleep(0)
    print(got)
    g = loop.create_future()
    g.add_done_callback(a)
    print(g.remove_done_callback(a))
    g.add_done_callback(b); g.add_done_callback(c)
    g.set_result(2)
    await asyncio.sleep(0)
    print(got)
asyncio.run(main())
