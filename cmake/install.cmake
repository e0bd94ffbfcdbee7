# What `cmake --install build --prefix P` puts under P:
#   bin/                 remex, remexd, remex-agent and the libcbor the agent
#                        carries beside it (tools/*/CMakeLists.txt)
#   include/remex/       the public headers, in the tree's own layout: a
#                        client adds include/remex and writes
#                        #include "actors/interfaces.hpp" like remex does
#   lib/                 the static libraries a client links
#   lib/cmake/remex/     remexConfig.cmake and its version file, so that
#                        find_package(remex) gives the target remex::client
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(REMEX_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/remex)
set(REMEX_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/remex)

# The broker's public typed interface, its message types, the link and the
# fd bridges, and every header of the tree they include: a header missing
# here breaks the example build (tests/examples), which uses nothing else.
set(REMEX_PUBLIC_HEADERS
    actors/atoms.hpp
    actors/exec_request.hpp
    actors/fd_bridge.hpp
    actors/interfaces.hpp
    actors/outcome.hpp
    actors/types.hpp
    config/connect_options.hpp
    config/daemon_settings.hpp
    node/node_link.hpp
    node/token_file.hpp
    transport/exec_channel.hpp)
foreach(header ${REMEX_PUBLIC_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${header}
          DESTINATION ${REMEX_INSTALL_INCLUDEDIR}/${dir})
endforeach()

# remex::client and every library it links, down to the protocol: static
# archives, so a client's executable needs none of them at run time. Their
# dependencies outside remex (caf::core, OpenSSL::SSL, spdlog::spdlog, ...)
# appear in the export by target name; remexConfig.cmake defines them first.
install(TARGETS remex_client remex_node remex_actors remex_config
                remex_transport remex_transport_ssh remex_protocol
                remex_group_guard
        EXPORT remexTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${REMEX_INSTALL_INCLUDEDIR})
install(EXPORT remexTargets NAMESPACE remex::
        DESTINATION ${REMEX_INSTALL_CMAKEDIR})

# The static libraries and headers change with every version: only the same
# minor version is compatible (0.x: no promise beyond that).
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/remexConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/remexConfig.cmake
              ${PROJECT_SOURCE_DIR}/cmake/remexDependencies.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/remexConfigVersion.cmake
        DESTINATION ${REMEX_INSTALL_CMAKEDIR})
