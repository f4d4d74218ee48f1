# Install rules (FIBERLEAK_INSTALL): the public headers, one export set per
# component, the CMake package, fiberleak.pc, and a .deb through CPack.
#
#   find_package(fiberleak REQUIRED)                     # every component installed
#   find_package(fiberleak REQUIRED COMPONENTS runtime)  # Boost.Fiber, libunwind, libdw
#   target_link_libraries(app PRIVATE fiberleak::fiberleak)
#
# Components: runtime (fiberleak::runtime), heap (fiberleak::heap and the
# LD_PRELOAD library), web (fiberleak::web, fiberleak::fiberleak, the heap
# server library; needs cpp-httplib, spdlog and zlib to link), testing
# (fiberleak::testing, and fiberleak::catch2 / fiberleak::gtest where their
# framework was found at build time), daemon (fiberleakd), service (its
# systemd unit and user), service_config (the .deb's /etc/fiberleak/, never
# in a plain install).
include(CMakePackageConfigHelpers)
set(FIBERLEAK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/fiberleak)

# Public headers only: include/fiberleak/ holds nothing else.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/fiberleak DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT runtime FILES_MATCHING PATTERN "*.hpp")

# The gdb extension (postmortem/): it reads the runtime's registry, so it
# comes with the runtime.
install(FILES ${PROJECT_SOURCE_DIR}/postmortem/fiberleak-gdb.py DESTINATION ${CMAKE_INSTALL_DATADIR}/fiberleak/gdb
        COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/postmortem/fiberleak_gdb DESTINATION ${CMAKE_INSTALL_DATADIR}/fiberleak/gdb
        COMPONENT runtime FILES_MATCHING PATTERN "*.py")

install(TARGETS fiberleak_runtime EXPORT fiberleakRuntimeTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime)
install(EXPORT fiberleakRuntimeTargets NAMESPACE fiberleak:: DESTINATION ${FIBERLEAK_CMAKE_DIR} COMPONENT runtime)

install(TARGETS fiberleak_heap EXPORT fiberleakHeapTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT heap)
install(TARGETS fiberleak_heap_preload LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT heap)
install(EXPORT fiberleakHeapTargets NAMESPACE fiberleak:: DESTINATION ${FIBERLEAK_CMAKE_DIR} COMPONENT heap)

set(_fiberleak_components runtime heap)
if(NOT FIBERLEAK_RUNTIME_ONLY)
  list(APPEND _fiberleak_components web)
  install(TARGETS fiberleak_web fiberleak_profiler fiberleak_fiberleak EXPORT fiberleakWebTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT web)
  install(TARGETS fiberleak_heap_profile fiberleak_heap_server LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT web)
  install(EXPORT fiberleakWebTargets NAMESPACE fiberleak:: DESTINATION ${FIBERLEAK_CMAKE_DIR} COMPONENT web)
  # The test-time checks (on the profiler, in the web set) and the
  # listeners, each framework's its own set so that only the one asked for
  # needs its framework. The listeners are objects (testing/CMakeLists.txt).
  list(APPEND _fiberleak_components testing)
  install(TARGETS fiberleak_testing EXPORT fiberleakTestingTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT testing)
  install(EXPORT fiberleakTestingTargets NAMESPACE fiberleak:: DESTINATION ${FIBERLEAK_CMAKE_DIR} COMPONENT testing)
  foreach(_framework catch2 gtest)
    if(TARGET fiberleak_${_framework})
      install(TARGETS fiberleak_${_framework} EXPORT fiberleak_${_framework}Targets
              OBJECTS DESTINATION ${CMAKE_INSTALL_LIBDIR}/fiberleak/${_framework} COMPONENT testing)
      install(EXPORT fiberleak_${_framework}Targets NAMESPACE fiberleak:: DESTINATION ${FIBERLEAK_CMAKE_DIR}
              COMPONENT testing)
    endif()
  endforeach()
  install(TARGETS fiberleakd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT daemon)
  install(FILES ${PROJECT_SOURCE_DIR}/config/fiberleakd.example.json ${PROJECT_SOURCE_DIR}/config/fiberleakd.sidecar.json
          DESTINATION ${CMAKE_INSTALL_DATADIR}/fiberleak COMPONENT daemon)
  # The system service (component "service"): its unit, its user
  # (sysusers.d), its documentation (the unit's Documentation=); and, in the
  # .deb only ("service_config": an absolute path a plain `cmake --install
  # --prefix` must not write), its config in /etc/fiberleak/.
  install(FILES ${PROJECT_SOURCE_DIR}/config/systemd/fiberleakd.service DESTINATION lib/systemd/system COMPONENT service)
  install(FILES ${PROJECT_SOURCE_DIR}/config/systemd/fiberleakd.sysusers DESTINATION lib/sysusers.d
          RENAME fiberleakd.conf COMPONENT service)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/fiberleakd.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/fiberleak
          COMPONENT service)
  install(FILES ${PROJECT_SOURCE_DIR}/config/fiberleakd.system.json DESTINATION /etc/fiberleak RENAME fiberleakd.json
          COMPONENT service_config EXCLUDE_FROM_ALL)
  install(DIRECTORY DESTINATION /etc/fiberleak/sd COMPONENT service_config EXCLUDE_FROM_ALL)
endif()

configure_package_config_file(cmake/fiberleakConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/fiberleakConfig.cmake
  INSTALL_DESTINATION ${FIBERLEAK_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/fiberleakConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/fiberleakConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/fiberleakConfigVersion.cmake
        DESTINATION ${FIBERLEAK_CMAKE_DIR} COMPONENT runtime)

# pkg-config, for builds without CMake: fiberleak-runtime.pc and, with the
# web component, fiberleak.pc (runtime + endpoint).
file(RELATIVE_PATH FIBERLEAK_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
foreach(_pc fiberleak-runtime fiberleak)
  if(_pc STREQUAL "fiberleak" AND FIBERLEAK_RUNTIME_ONLY)
    continue()
  endif()
  configure_file(cmake/${_pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${_pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${_pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT runtime)
endforeach()

# cpack -G DEB (from the build directory): one fiberleak_VERSION_ARCH.deb
# with every component. Dependencies are Debian's development packages, since
# what it installs is mostly for building against.
set(CPACK_PACKAGE_NAME fiberleak)
set(CPACK_PACKAGE_VENDOR "fiberleak")
set(CPACK_PACKAGE_CONTACT "fiberleak maintainers <fiberleak@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# One package of every component in CPACK_COMPONENTS_ALL, installed component
# by component (so that system_config, left out of a plain install, is in).
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL ${_fiberleak_components} daemon)
if(NOT FIBERLEAK_RUNTIME_ONLY)
  list(APPEND CPACK_COMPONENTS_ALL service service_config)
  # /etc/fiberleak/fiberleakd.json is the admin's (dpkg keeps their edits);
  # postinst makes the fiberleak user.
  set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/cmake/deb/conffiles ${PROJECT_SOURCE_DIR}/cmake/deb/postinst)
  set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
endif()
set(_deb_depends "libboost-fiber-dev (>= 1.74), libboost-context-dev (>= 1.74), libunwind-dev, libdw-dev")
if(NOT FIBERLEAK_RUNTIME_ONLY)
  string(APPEND _deb_depends ", libcpp-httplib-dev, libspdlog-dev, zlib1g-dev")
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${_deb_depends}")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
include(CPack)
