# Adds <dir> (if it has a CMakeLists.txt) so parts of the tree can land independently.
function(kiq_add_subdirectories dir)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/CMakeLists.txt)
    add_subdirectory(${dir})
  endif()
endfunction()

# kiq_add_library(<name> DIR <dir> [DEPS ...]): a static library of every .cpp under src/<dir>.
function(kiq_add_library name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${ARG_DIR}/*.cpp)
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# kiq_add_gtest(<name> SOURCES ... [LIBS ...] [LABELS ...]): a GoogleTest binary registered with CTest.
function(kiq_add_gtest name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main Threads::Threads)
  include(GoogleTest)
  # gtest_discover_tests flattens list-valued PROPERTIES (the ';' in ENVIRONMENT split it, and an
  # empty LABELS shifted every value: tests were labelled "ENVIRONMENT"). So the environment comes
  # from an `env` launcher (used for discovery and runs) and LABELS is passed only when given.
  set_property(TARGET ${name} PROPERTY CROSSCOMPILING_EMULATOR
               env KIQ_SOURCE_DIR=${PROJECT_SOURCE_DIR} KIQ_BINARY_DIR=${PROJECT_BINARY_DIR})
  set(props "")
  if(ARG_LABELS)
    set(props PROPERTIES LABELS "${ARG_LABELS}")
  endif()
  if("tsan" IN_LIST ARG_LABELS)
    set_property(GLOBAL APPEND PROPERTY KIQ_TSAN_TARGETS ${name})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 ${props})
endfunction()

# tsan_tests: builds only the test binaries labelled `tsan` (and what they depend on), so the
# ThreadSanitizer pass of scripts/test does not build examples, benchmarks and fuzzers again.
function(kiq_add_tsan_aggregate)
  get_property(targets GLOBAL PROPERTY KIQ_TSAN_TARGETS)
  add_custom_target(tsan_tests)
  if(targets)
    add_dependencies(tsan_tests ${targets})
  endif()
endfunction()
