# Install and export: headers, libasyncio.a and libasyncio.so.MAJOR.MINOR, libasyncio_http.a,
# the CMake package (asyncioConfig.cmake, asyncioConfigVersion.cmake, asyncioTargets.cmake with
# asyncio::asyncio, asyncio::asyncio_shared, asyncio::http and asyncio::gmp) and asyncio.pc. Everything installed is relocatable: the prefix
# may be chosen at install time (`cmake --install build --prefix DIR`, `make install PREFIX=DIR`).
include_guard(GLOBAL)
include(CMakePackageConfigHelpers)

set(ASYNCIO_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/asyncio)

# Public headers (internals under detail/ too: public headers include them). The MPI header
# is installed with the MPI library, below.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/asyncio DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        PATTERN "mpi" EXCLUDE)
install(TARGETS asyncio asyncio_shared EXPORT asyncioTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The HTTP client and server (static only) and the GMP opt-in (an interface target).
install(TARGETS asyncio_http EXPORT asyncioTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(TARGET asyncio_gmp)
  install(TARGETS asyncio_gmp EXPORT asyncioTargets)
endif()
if(TARGET asyncio_mpi)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/asyncio/mpi
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/asyncio)
  install(TARGETS asyncio_mpi EXPORT asyncioTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  set(ASYNCIO_CONFIG_MPI "find_dependency(MPI COMPONENTS CXX)\n")
else()
  set(ASYNCIO_CONFIG_MPI "")
endif()
install(EXPORT asyncioTargets NAMESPACE asyncio:: DESTINATION ${ASYNCIO_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/asyncioConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/asyncioConfig.cmake
                              INSTALL_DESTINATION ${ASYNCIO_CMAKE_DIR})
# Before 1.0 a minor version may break compatibility (see version.hpp).
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_asyncio_compat SameMinorVersion)
else()
  set(_asyncio_compat SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/asyncioConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY ${_asyncio_compat})
install(FILES ${PROJECT_BINARY_DIR}/asyncioConfig.cmake ${PROJECT_BINARY_DIR}/asyncioConfigVersion.cmake
        DESTINATION ${ASYNCIO_CMAKE_DIR})

file(RELATIVE_PATH ASYNCIO_PC_UP /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
string(REGEX REPLACE "/$" "" ASYNCIO_PC_UP "${ASYNCIO_PC_UP}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/asyncio.pc.in ${PROJECT_BINARY_DIR}/asyncio.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/asyncio.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
