# SPDX-License-Identifier: Apache-2.0
# Install rules: headers, libraries, ferriteConfig.cmake + version file, so that
# find_package(ferrite CONFIG REQUIRED) and target_link_libraries(app ferrite::ferrite) work.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(modules GLOBAL PROPERTY FERRITE_MODULES)
set(targets ferrite_all)
foreach(m IN LISTS modules)
  list(APPEND targets ferrite_${m})
endforeach()

install(TARGETS ${targets} EXPORT ferriteTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(EXPORT ferriteTargets NAMESPACE ferrite::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ferrite)
configure_package_config_file(cmake/ferriteConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ferriteConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ferrite)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ferriteConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ferriteConfig.cmake
  ${PROJECT_BINARY_DIR}/ferriteConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FerriteModelTest.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ferrite)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
