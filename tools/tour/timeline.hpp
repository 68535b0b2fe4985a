#pragma once
// Text timelines of a trace file (trace.hpp's Chrome Trace Event Format):
// one row per lane (task, worker), a mark where it ran, dots while it waited.
#include <string>

namespace tour {

/// Renders a trace (the file's JSON text) as a text timeline `width` columns wide; empty on error.
std::string render_timeline_text(const std::string& trace_json, int width = 60);

}  // namespace tour
