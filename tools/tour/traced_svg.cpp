// See traced_svg.hpp.
#include "traced_svg.hpp"

#include <asyncio/runners.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "timeline/timeline.hpp"

namespace fs = std::filesystem;

namespace tour {

std::string traced_svg(asyncio::Coro<> main, const std::string& title) {
  std::string path =
      (fs::temp_directory_path() / ("asyncio-tour-trace-" + std::to_string(getpid()) + ".json")).string();
  asyncio::run(std::move(main), asyncio::RunOptions{.debug = false, .virtual_time = false, .trace_path = path});
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  fs::remove(path);
  return timeline::render_svg(timeline::parse_trace(s.str(), path),
                              {.width = 960, .max_task_lanes = 200, .title = title});
}

}  // namespace tour
