// asyncio-tour: placeholder entry, replaced below in this session.
#include <cstdio>
int main() { std::puts("asyncio-tour"); }
