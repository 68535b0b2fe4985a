# The library's own dependencies, listed once.
#
# Each asyncio_dependency() line finds the package for this build AND records how
# asyncioConfig.cmake finds it again for an installed copy, and what asyncio.pc requires.
# PUBLIC dependencies are usage requirements of asyncio::asyncio (their headers appear in
# ours); PRIVATE ones are needed only to link the static library (CMake exports them as
# $<LINK_ONLY:...>, pkg-config as Requires.private). To make a dependency private, change
# its first argument here and nothing else.
#
#   asyncio_dependency(<PUBLIC|PRIVATE> <target>
#                      PACKAGE <name> [PC <module>...]    # find_package(<name>); its pkg-config name
#                    | PKG <prefix> MODULES <module>...  # pkg_check_modules(<prefix> IMPORTED_TARGET ...)
#                      [PC_LIBS <flags>])                # what asyncio.pc's Libs gets instead of a module
include_guard(GLOBAL)
find_package(PkgConfig REQUIRED)

set(ASYNCIO_PUBLIC_TARGETS "")
set(ASYNCIO_PRIVATE_TARGETS "")
set(ASYNCIO_CONFIG_DEPENDENCIES "")   # lines for asyncioConfig.cmake
set(ASYNCIO_PC_REQUIRES "")           # asyncio.pc Requires
set(ASYNCIO_PC_REQUIRES_PRIVATE "")   # asyncio.pc Requires.private
set(ASYNCIO_PC_LIBS "")               # asyncio.pc Libs (beyond -lasyncio)

macro(asyncio_dependency scope target)
  cmake_parse_arguments(_dep "" "PACKAGE;PKG;PC_LIBS" "MODULES;PC" ${ARGN})
  set(_dep_pc "")
  list(APPEND ASYNCIO_${scope}_TARGETS ${target})
  if(_dep_PACKAGE)
    find_package(${_dep_PACKAGE} REQUIRED)
    string(APPEND ASYNCIO_CONFIG_DEPENDENCIES "find_dependency(${_dep_PACKAGE})\n")
    set(_dep_pc ${_dep_PC})
  else()
    pkg_check_modules(${_dep_PKG} REQUIRED IMPORTED_TARGET ${_dep_MODULES})
    set(_dep_pc ${_dep_MODULES})
    list(JOIN _dep_MODULES " " _dep_modules)
    string(APPEND ASYNCIO_CONFIG_DEPENDENCIES
           "if(NOT TARGET ${target})\n"
           "  pkg_check_modules(${_dep_PKG} QUIET IMPORTED_TARGET ${_dep_modules})\n"
           "  if(NOT ${_dep_PKG}_FOUND)\n"
           "    set(asyncio_NOT_FOUND_MESSAGE \"asyncio needs the pkg-config module(s) ${_dep_modules}\")\n"
           "    set(asyncio_FOUND FALSE)\n"
           "    return()\n"
           "  endif()\n"
           "endif()\n")
  endif()
  if(_dep_pc)
    list(JOIN _dep_pc " " _dep_pc)
    if("${scope}" STREQUAL "PUBLIC")
      string(APPEND ASYNCIO_PC_REQUIRES " ${_dep_pc}")
    else()
      string(APPEND ASYNCIO_PC_REQUIRES_PRIVATE " ${_dep_pc}")
    endif()
  endif()
  if(_dep_PC_LIBS)
    string(APPEND ASYNCIO_PC_LIBS " ${_dep_PC_LIBS}")
  endif()
endmacro()

# cereal has no pkg-config file: header-only, found in the default include path. It is
# asyncio/process_pool.hpp's (which the umbrella header does not include). GMP is no
# dependency of the library: see asyncio::gmp in CMakeLists.txt (asyncio/serialize_gmp.hpp).
asyncio_dependency(PUBLIC  fmt::fmt                       PACKAGE fmt PC fmt)
asyncio_dependency(PUBLIC  Threads::Threads               PACKAGE Threads PC_LIBS -pthread)
asyncio_dependency(PUBLIC  cereal::cereal                 PACKAGE cereal)
asyncio_dependency(PRIVATE PkgConfig::LIBUV               PKG LIBUV MODULES libuv)
asyncio_dependency(PRIVATE nlohmann_json::nlohmann_json   PACKAGE nlohmann_json)
# TLS (ssl.hpp): CPython's sslproto model on OpenSSL's memory BIOs.
asyncio_dependency(PRIVATE OpenSSL::SSL                    PACKAGE OpenSSL PC openssl)
