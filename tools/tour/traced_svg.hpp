#pragma once
// Runs a coroutine under asyncio::run with tracing on (trace.hpp) and draws what ran where
// (tools/timeline): the report's cpu and io timelines. The pictures of one table share one
// time axis, so that their lengths compare at a glance.
#include <asyncio/coroutines.hpp>

#include <string>
#include <vector>

#include "timeline/timeline.hpp"

namespace tour {

/// asyncio.run(main) traced on the real clock: what ran where.
timeline::Trace traced_run(asyncio::Coro<> main);

/// One SVG document per trace, titled `titles[i]`, all on the time axis of the longest
/// (timeline::shared_span). std::invalid_argument unless there is one title per trace.
std::vector<std::string> render_on_shared_axis(const std::vector<timeline::Trace>& traces,
                                               const std::vector<std::string>& titles);

}  // namespace tour
