#pragma once
/// \file asyncio.hpp
/// The umbrella header: every public header of the library but two opt-in ones,
/// asyncio/process_pool.hpp (ProcessPoolExecutor: needs cereal) and asyncio/serialize_gmp.hpp
/// (GMP integers through a process pool: needs GMP). Python's `import asyncio`.
#include "asyncio/coroutines.hpp"
#include "asyncio/events.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/concurrent_futures.hpp"
#include "asyncio/exception_group.hpp"
#include "asyncio/executor_bridge.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/graph.hpp"
#include "asyncio/locks.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/queues.hpp"
#include "asyncio/repr.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/server.hpp"
#include "asyncio/ssl.hpp"
#include "asyncio/streams.hpp"
#include "asyncio/subprocess.hpp"
#include "asyncio/taskgroups.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/tasks_combinators.hpp"
#include "asyncio/threads.hpp"
#include "asyncio/timeouts.hpp"
#include "asyncio/transports.hpp"
#include "asyncio/version.hpp"
