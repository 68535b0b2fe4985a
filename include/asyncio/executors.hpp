#pragma once
/// \file executors.hpp
/// Thread and process pools (CPython's concurrent.futures) and their bridge into the event
/// loop, in one include: asyncio/concurrent_futures.hpp (Future, errors, Executor,
/// ThreadPoolExecutor), asyncio/process_pool.hpp (ProcessPoolExecutor, its registry and
/// worker start; needs cereal), asyncio/executor_bridge.hpp (wrap_future, run_in_executor)
/// and asyncio/threads.hpp (to_thread). GMP integers cross a process pool with
/// asyncio/serialize_gmp.hpp (opt-in). The umbrella asyncio.hpp includes all but the
/// process pool and GMP.
#include "asyncio/concurrent_futures.hpp"
#include "asyncio/executor_bridge.hpp"
#include "asyncio/process_pool.hpp"
#include "asyncio/threads.hpp"
