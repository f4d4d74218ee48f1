# Install + export so another project can find_package(fiberleak) and link
# fiberleak::runtime (tested by tests/consumer).
include(CMakePackageConfigHelpers)
install(EXPORT fiberleakTargets NAMESPACE fiberleak:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fiberleak)
configure_package_config_file(cmake/fiberleakConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/fiberleakConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fiberleak)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/fiberleakConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/fiberleakConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/fiberleakConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fiberleak)
