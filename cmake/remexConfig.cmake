# find_package(remex): the imported target remex::client, which a CAF
# program links to drive a remexd (see examples/). Installed by
# cmake/install.cmake; the libraries remex links are found again here, the
# way the build found them, because the exported targets name them.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(OpenSSL)
find_dependency(spdlog)
include(${CMAKE_CURRENT_LIST_DIR}/remexDependencies.cmake)
if(REMEX_MISSING_DEPENDENCIES)
  set(remex_FOUND FALSE)
  string(CONCAT remex_NOT_FOUND_MESSAGE
         "remex needs CAF 0.17 (core, io, openssl), libcbor and libssh; "
         "not found: ${REMEX_MISSING_DEPENDENCIES}")
  return()
endif()
include(${CMAKE_CURRENT_LIST_DIR}/remexTargets.cmake)
