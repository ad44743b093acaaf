# Header-only private dependencies (nlohmann_json) are linked as
# $<BUILD_INTERFACE:...>: users of the package do not need them.
#
# The installable client SDK: `cmake --install BUILD --prefix PREFIX` gives
#   PREFIX/include/weightserver/...            public headers
#   PREFIX/lib/libweightserver_{client,wire,proto,format,util}.a
#   PREFIX/lib/cmake/weightserver/             find_package(weightserver)
#   PREFIX/lib/pkgconfig/weightserver-client.pc
#   PREFIX/bin/weightctl (and weightserver, when built)
include(CMakePackageConfigHelpers)

set(WS_SDK_TARGETS ws_util ws_format ws_proto ws_wire ws_client)
foreach(t IN LISTS WS_SDK_TARGETS)
  string(REPLACE "ws_" "" name ${t})
  set_target_properties(${t} PROPERTIES EXPORT_NAME ${name}
                                        OUTPUT_NAME weightserver_${name})
endforeach()

install(TARGETS ${WS_SDK_TARGETS} EXPORT weightserverTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/weightserver DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS weightctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET weightserver)
  install(TARGETS weightserver RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

set(WS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/weightserver)
install(EXPORT weightserverTargets NAMESPACE weightserver::
        DESTINATION ${WS_CMAKE_DIR})
if(CUDAToolkit_FOUND)
  set(WS_CLIENT_HAS_CUDA ON)
  set(WS_PC_EXTRA_LIBS "-L${CUDAToolkit_LIBRARY_DIR} -lcudart")
else()
  set(WS_CLIENT_HAS_CUDA OFF)
  set(WS_PC_EXTRA_LIBS "")
endif()
set(WS_PC_EXTRA_CFLAGS "")
set(WS_PC_PREFIX "@WS_PC_PREFIX@")  # Filled in at install time.
configure_package_config_file(cmake/weightserverConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/weightserverConfig.cmake
  INSTALL_DESTINATION ${WS_CMAKE_DIR})
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/weightserverConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/weightserverConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/weightserverConfigVersion.cmake
        DESTINATION ${WS_CMAKE_DIR})
# The .pc file names the prefix given at install time.
configure_file(cmake/weightserver-client.pc.in
               ${CMAKE_CURRENT_BINARY_DIR}/weightserver-client.pc.in @ONLY)
install(CODE "
  file(READ \"${CMAKE_CURRENT_BINARY_DIR}/weightserver-client.pc.in\" pc)
  string(REPLACE \"@WS_PC_PREFIX@\" \"\${CMAKE_INSTALL_PREFIX}\" pc \"\${pc}\")
  file(WRITE \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/weightserver-client.pc\" \"\${pc}\")
  message(STATUS \"Installing: \${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/weightserver-client.pc\")
")
