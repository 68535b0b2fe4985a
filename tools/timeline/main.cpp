// asyncio-timeline: draws a trace file (ASYNCIO_TRACE=run.json) as an SVG timeline.
//
//   asyncio-timeline run.json -o run.svg [--title T] [--width PX] [--max-lanes N]
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "timeline/timeline.hpp"

int main(int argc, char** argv) {
  std::string in, out, title;
  timeline::SvgOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "asyncio-timeline: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "-o" || a == "--out") {
      out = value();
    } else if (a == "--title") {
      options.title = value();
    } else if (a == "--width") {
      options.width = std::stoi(value());
    } else if (a == "--max-lanes") {
      options.max_task_lanes = std::stoul(value());
    } else if (a == "-h" || a == "--help") {
      std::cout << "usage: asyncio-timeline TRACE.json [-o OUT.svg] [--title T] [--width PX] [--max-lanes N]\n";
      return 0;
    } else {
      in = a;
    }
  }
  if (in.empty()) {
    std::cerr << "usage: asyncio-timeline TRACE.json [-o OUT.svg] [--title T] [--width PX] [--max-lanes N]\n";
    return 2;
  }
  try {
    std::string svg = timeline::render_svg(timeline::load_trace(in), options);
    if (out.empty()) {
      std::cout << svg;
    } else {
      std::ofstream f(out);
      f << svg;
      if (!f) {
        std::cerr << "asyncio-timeline: cannot write " << out << "\n";
        return 1;
      }
    }
  } catch (const timeline::TraceError& e) {
    std::cerr << "asyncio-timeline: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
