#pragma once
/// \file version.hpp
/// The library's version (Python: `sys.version_info` for the interpreter; here the library's).
///
/// This header is the one place the version is written: CMake's project(VERSION), the shared
/// library's SONAME, asyncioConfigVersion.cmake and asyncio.pc all read it from here.
///
///   #if ASYNCIO_VERSION_MAJOR == 0 && ASYNCIO_VERSION_MINOR < 2
///   ...
///   fmt::print("asyncio {}\n", ASYNCIO_VERSION_STRING);   // "asyncio 0.1.0"
///
/// Compatibility rule: before 1.0, every minor version may break the ABI and API (the shared
/// library's SONAME is libasyncio.so.MAJOR.MINOR); from 1.0 on, only a major version may.

#define ASYNCIO_VERSION_MAJOR 0
#define ASYNCIO_VERSION_MINOR 1
#define ASYNCIO_VERSION_PATCH 0

#define ASYNCIO_DETAIL_VERSION_STR2(x) #x
#define ASYNCIO_DETAIL_VERSION_STR(x) ASYNCIO_DETAIL_VERSION_STR2(x)
/// "MAJOR.MINOR.PATCH"
#define ASYNCIO_VERSION_STRING                        \
  ASYNCIO_DETAIL_VERSION_STR(ASYNCIO_VERSION_MAJOR) "." \
  ASYNCIO_DETAIL_VERSION_STR(ASYNCIO_VERSION_MINOR) "." \
  ASYNCIO_DETAIL_VERSION_STR(ASYNCIO_VERSION_PATCH)
/// MAJOR * 10000 + MINOR * 100 + PATCH, for comparisons in #if.
#define ASYNCIO_VERSION \
  (ASYNCIO_VERSION_MAJOR * 10000 + ASYNCIO_VERSION_MINOR * 100 + ASYNCIO_VERSION_PATCH)
