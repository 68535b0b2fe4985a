#pragma once
/// \file trace.hpp
/// Tracing is switched on by RunOptions::trace_path, ASYNCIO_TRACE=file.json or
/// loop.enable_tracing(path); the trace's format is described in asyncio/detail/trace.hpp,
/// with the tracer, which is internal. This header stays for code that included it.
#include "asyncio/detail/trace.hpp"
