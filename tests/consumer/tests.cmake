# Consumer tests: the library used from outside the tree three ways (tests/consumer/run.cmake).
# consumer_install installs this build tree into build/consumer/prefix (no rebuild); the
# find_package and pkg-config consumers build against that copy; the add_subdirectory
# consumer compiles src/ once more, at -O0. Not in sanitizer builds: an instrumented library
# would need the sanitizer's flags in every consumer.
if(ASYNCIO_SAN_FLAGS)
  return()
endif()
set(_consumer_work ${PROJECT_BINARY_DIR}/consumer)
set(_consumer_run ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
    -DWORK=${_consumer_work} -DVERSION=${PROJECT_VERSION} -DCXX=${CMAKE_CXX_COMPILER}
    -DGENERATOR=${CMAKE_GENERATOR} -DLAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER})
foreach(mode install find_package subdirectory pkgconfig)
  add_test(NAME consumer_${mode}
           COMMAND ${_consumer_run} -DMODE=${mode} -P ${PROJECT_SOURCE_DIR}/tests/consumer/run.cmake)
  set_tests_properties(consumer_${mode} PROPERTIES LABELS consumer TIMEOUT 900)
endforeach()
set_tests_properties(consumer_install PROPERTIES FIXTURES_SETUP asyncio_installed)
set_tests_properties(consumer_find_package consumer_pkgconfig PROPERTIES FIXTURES_REQUIRED asyncio_installed)
