// See traced_svg.hpp.
#include "traced_svg.hpp"

#include <asyncio/runners.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace tour {

timeline::Trace traced_run(asyncio::Coro<> main) {
  std::string path =
      (fs::temp_directory_path() / ("asyncio-tour-trace-" + std::to_string(getpid()) + ".json")).string();
  asyncio::run(std::move(main), asyncio::RunOptions{.debug = false, .virtual_time = false, .trace_path = path});
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  fs::remove(path);
  return timeline::parse_trace(s.str(), path);
}

std::vector<std::string> render_on_shared_axis(const std::vector<timeline::Trace>& traces,
                                               const std::vector<std::string>& titles) {
  if (traces.size() != titles.size())
    throw std::invalid_argument("render_on_shared_axis: one title per trace");
  double span = timeline::shared_span(traces);
  std::vector<std::string> svgs;
  for (std::size_t i = 0; i < traces.size(); ++i)
    svgs.push_back(timeline::render_svg(traces[i], {.width = 960, .max_task_lanes = 200, .title = titles[i],
                                                    .span = span}));
  return svgs;
}

}  // namespace tour
