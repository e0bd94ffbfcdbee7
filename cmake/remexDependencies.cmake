# The libraries Debian 12 ships without a usable CMake package (CAF 0.17.6
# and libcbor have none; libssh's names its target plain `ssh`), found by
# hand and turned into namespaced imported targets. Included by the top-level
# CMakeLists.txt and, installed, by remexConfig.cmake, so that a client links
# what the build linked.
#
# Expects Threads::Threads and OpenSSL::SSL to exist (find_package first).
# Leaves the names of what it could not find in REMEX_MISSING_DEPENDENCIES
# and makes no target then; the caller decides whether that is fatal. A
# target the caller already has (a project that defines caf::core itself) is
# kept as it is.
set(REMEX_MISSING_DEPENDENCIES "")
find_path(CAF_INCLUDE_DIR caf/all.hpp)
find_library(CAF_CORE_LIBRARY caf_core)
find_library(CAF_IO_LIBRARY caf_io)
find_library(CAF_OPENSSL_LIBRARY caf_openssl)
find_path(CBOR_INCLUDE_DIR cbor.h)
find_library(CBOR_LIBRARY cbor)
find_path(LIBSSH_INCLUDE_DIR libssh/libssh.h)
find_library(LIBSSH_LIBRARY ssh)
foreach(var CAF_INCLUDE_DIR CAF_CORE_LIBRARY CAF_IO_LIBRARY CAF_OPENSSL_LIBRARY
            CBOR_INCLUDE_DIR CBOR_LIBRARY LIBSSH_INCLUDE_DIR LIBSSH_LIBRARY)
  if(NOT ${var})
    list(APPEND REMEX_MISSING_DEPENDENCIES ${var})
  endif()
endforeach()
if(REMEX_MISSING_DEPENDENCIES)
  return()
endif()

if(NOT TARGET caf::core)
  add_library(caf::core INTERFACE IMPORTED)
  set_target_properties(caf::core PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${CAF_CORE_LIBRARY};Threads::Threads")
endif()
if(NOT TARGET caf::io)
  add_library(caf::io INTERFACE IMPORTED)
  set_target_properties(caf::io PROPERTIES
    INTERFACE_LINK_LIBRARIES "${CAF_IO_LIBRARY};caf::core")
endif()
if(NOT TARGET caf::openssl)
  add_library(caf::openssl INTERFACE IMPORTED)
  set_target_properties(caf::openssl PROPERTIES
    INTERFACE_LINK_LIBRARIES "${CAF_OPENSSL_LIBRARY};caf::io;OpenSSL::SSL")
endif()
if(NOT TARGET cbor::cbor)
  add_library(cbor::cbor INTERFACE IMPORTED)
  set_target_properties(cbor::cbor PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${CBOR_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${CBOR_LIBRARY}")
endif()
if(NOT TARGET libssh::ssh)
  add_library(libssh::ssh INTERFACE IMPORTED)
  set_target_properties(libssh::ssh PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${LIBSSH_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${LIBSSH_LIBRARY}")
endif()
