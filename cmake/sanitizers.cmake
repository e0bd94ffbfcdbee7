# REMEX_SANITIZE: where the sanitizers' reports go, and the test that fails
# on them. Included by the top CMakeLists.txt after every target exists.
set(REMEX_SANITIZER_REPORTS ${CMAKE_BINARY_DIR}/sanitizer-reports)
# Sticky and writable by all: the agent shipped to the sshd fixture runs as
# the fixture's user and writes its reports here too.
file(MAKE_DIRECTORY ${REMEX_SANITIZER_REPORTS})
execute_process(COMMAND chmod 1777 ${REMEX_SANITIZER_REPORTS})

# LeakSanitizer checks every program that ends by returning or exit(): the
# unit test programs, the agent, remex, remexd and the tests' helpers.
# ASan keeps freed memory from reuse for a while to catch use after free: up
# to 256 MiB by default, which a bound on memory (slow reader, log flood,
# growth under load) cannot tell from a leak. Capped here for every program;
# the tests ask a program for it and add it to their bounds (tests/cli/lib.sh:
# sanitizer_growth_kib).
set(REMEX_ASAN_QUARANTINE_MB 32)
add_library(remex_sanitizer_defaults OBJECT
            ${CMAKE_CURRENT_LIST_DIR}/sanitizer_defaults.cpp)
target_compile_definitions(remex_sanitizer_defaults PRIVATE
  REMEX_SANITIZER_REPORTS="${REMEX_SANITIZER_REPORTS}"
  REMEX_ASAN_QUARANTINE_MB="${REMEX_ASAN_QUARANTINE_MB}")

# Every executable of the tree, whatever folder defined it.
function(remex_executables dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  set(found)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "EXECUTABLE")
      list(APPEND found ${t})
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    remex_executables(${sub} more)
    list(APPEND found ${more})
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()
remex_executables(${PROJECT_SOURCE_DIR} remex_programs)
foreach(program ${remex_programs})
  target_link_libraries(${program} PRIVATE remex_sanitizer_defaults)
endforeach()

if(NOT REMEX_TESTS)
  return()
endif()
function(remex_tests dir out)
  get_property(found DIRECTORY ${dir} PROPERTY TESTS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    remex_tests(${sub} more)
    list(APPEND found ${more})
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()
remex_tests(${PROJECT_SOURCE_DIR} remex_all_tests)
# After every other test of the run, whichever labels select it.
add_test(NAME sanitizer_reports
         COMMAND ${PROJECT_SOURCE_DIR}/tests/common/sanitizer_reports_test.sh
                 ${REMEX_SANITIZER_REPORTS})
set_tests_properties(sanitizer_reports PROPERTIES
  DEPENDS "${remex_all_tests}" LABELS "unit;integration;reliability"
  TIMEOUT 60)
