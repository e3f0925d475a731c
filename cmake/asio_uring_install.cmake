# Install rules and the package config, so find_package(asio_uring) works after cmake --install.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
install(TARGETS asio_uring EXPORT asio_uring-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT asio_uring-targets NAMESPACE asio_uring::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/asio_uring)
configure_package_config_file(cmake/asio_uring-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/asio_uring-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/asio_uring)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/asio_uring-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/asio_uring-config.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/asio_uring-config-version.cmake
  cmake/FindLiburing.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/asio_uring)
