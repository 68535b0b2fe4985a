#pragma once
/// \file asyncio.hpp
/// The umbrella header: every public header of the library.
/// Python's `import asyncio`.
#include "asyncio/coroutines.hpp"
#include "asyncio/events.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/executors.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/graph.hpp"
#include "asyncio/locks.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/queues.hpp"
#include "asyncio/repr.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/server.hpp"
#include "asyncio/streams.hpp"
#include "asyncio/subprocess.hpp"
#include "asyncio/taskgroups.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/timeouts.hpp"
#include "asyncio/trace.hpp"
#include "asyncio/transports.hpp"
#include "asyncio/version.hpp"
