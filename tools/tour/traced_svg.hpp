#pragma once
// Runs a coroutine under asyncio::run with tracing on (trace.hpp) and draws what ran where
// (tools/timeline): the report's cpu and io timelines.
#include <asyncio/coroutines.hpp>

#include <string>

namespace tour {

/// asyncio.run(main) traced on the real clock, rendered as an SVG document titled `title`.
std::string traced_svg(asyncio::Coro<> main, const std::string& title);

}  // namespace tour
