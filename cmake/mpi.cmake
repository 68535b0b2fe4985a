# MpiPoolExecutor: the asyncio_mpi library (asyncio::mpi), examples/*_mpi.cpp and its tests,
# built only when MPI is found, so the core never depends on MPI.
include_guard(GLOBAL)
option(ASYNCIO_WITH_MPI "Build MpiPoolExecutor (asyncio_mpi) when MPI is found" ON)
if(ASYNCIO_WITH_MPI)
  find_package(MPI COMPONENTS CXX)
endif()
if(NOT MPI_CXX_FOUND)
  return()
endif()

file(GLOB ASYNCIO_MPI_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/mpi/*.cpp)
add_library(asyncio_mpi STATIC ${ASYNCIO_MPI_SOURCES})
add_library(asyncio::mpi ALIAS asyncio_mpi)
set_target_properties(asyncio_mpi PROPERTIES EXPORT_NAME mpi POSITION_INDEPENDENT_CODE ON)
target_link_libraries(asyncio_mpi PUBLIC asyncio
                                  PRIVATE MPI::MPI_CXX $<BUILD_INTERFACE:asyncio_warnings>)

# mpirun refuses to run as root unless told; CI runs as root.
set(ASYNCIO_MPIRUN_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)

if(ASYNCIO_BUILD_EXAMPLES)
  file(GLOB _mpi_examples CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/examples/*_mpi.cpp)
  foreach(src ${_mpi_examples})
    get_filename_component(name ${src} NAME_WE)
    add_executable(example_${name} ${src})
    set_target_properties(example_${name} PROPERTIES OUTPUT_NAME ${name}
                          RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/examples)
    target_link_libraries(example_${name} PRIVATE asyncio_mpi asyncio_gmp asyncio_warnings)
    if(TARGET asyncio-tour)
      add_dependencies(asyncio-tour example_${name})  # `asyncio-tour cpu --mpi` runs it
    endif()
  endforeach()
endif()

if(ASYNCIO_BUILD_TESTS)
  add_executable(test_mpi_executor ${PROJECT_SOURCE_DIR}/tests/mpi/test_mpi_executor.cpp)
  target_link_libraries(test_mpi_executor PRIVATE asyncio_mpi asyncio_gmp asyncio_warnings GTest::gtest GTest::gmock)
  target_include_directories(test_mpi_executor PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  # Each entry is one mpirun: rank 0 runs the tests, ranks 1-2 serve calls. A worker that
  # dies needs --enable-recovery (OpenMPI's default aborts the whole job: see the header).
  set(_mpirun ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 3 --oversubscribe)
  add_test(NAME mpi_executor
           COMMAND ${_mpirun} $<TARGET_FILE:test_mpi_executor> --gtest_filter=-MpiWorkerDeath.*)
  add_test(NAME mpi_executor_worker_death
           COMMAND ${_mpirun} --enable-recovery $<TARGET_FILE:test_mpi_executor>
                   --gtest_filter=MpiWorkerDeath.*)
  set(_mpi_tests mpi_executor mpi_executor_worker_death)
  if(ASYNCIO_BUILD_EXAMPLES)
    # factorial_mpi checks that the MPI pool computes what the process pool computes.
    add_test(NAME mpi_example_factorial COMMAND ${_mpirun} $<TARGET_FILE:example_factorial_mpi> 2000 40)
    set_tests_properties(mpi_example_factorial PROPERTIES
      PASS_REGULAR_EXPRESSION "MPI pool and process pool: the same sum")
    list(APPEND _mpi_tests mpi_example_factorial)
  endif()
  if(ASYNCIO_ENABLE_ASAN)
    # OpenMPI keeps allocations past MPI_Finalize, and its libraries have no frame pointers,
    # so LeakSanitizer's reports cannot even be suppressed by library: leak checking is off for
    # these entries only (address errors and UBSan still abort them).
    list(APPEND ASYNCIO_MPIRUN_ENV ASAN_OPTIONS=detect_leaks=0)
  endif()
  set_tests_properties(${_mpi_tests} PROPERTIES LABELS mpi TIMEOUT 180
                       ENVIRONMENT "${ASYNCIO_MPIRUN_ENV}")
endif()
