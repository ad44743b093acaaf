# Build-wide checks (the CI's safety net, scripts/safety.sh):
#   WS_SANITIZE=address  ASan + UBSan (any error aborts the test)
#   WS_SANITIZE=thread   TSan
#   WS_WERROR=ON         warnings are errors
#   WS_BUILD_FUZZERS=ON  the libFuzzer targets in fuzz/ (clang)
# With clang, -Wthread-safety checks the ABSL_GUARDED_BY /
# ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations (on absl::Mutex) everywhere.
set(WS_SANITIZE "" CACHE STRING "Sanitizers: empty, 'address' (ASan+UBSan) or 'thread' (TSan)")
set_property(CACHE WS_SANITIZE PROPERTY STRINGS "" address thread)
option(WS_WERROR "Treat warnings as errors" OFF)
option(WS_BUILD_FUZZERS "Build the libFuzzer targets in fuzz/ (needs clang)" OFF)

if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_options(-Wthread-safety)
endif()
if(WS_WERROR)
  add_compile_options(-Werror)
endif()

if(WS_SANITIZE STREQUAL "address")
  set(WS_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
                        -fno-omit-frame-pointer)
elseif(WS_SANITIZE STREQUAL "thread")
  set(WS_SANITIZE_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT WS_SANITIZE STREQUAL "")
  message(FATAL_ERROR "WS_SANITIZE must be empty, 'address' or 'thread', not '${WS_SANITIZE}'")
endif()
if(WS_SANITIZE_FLAGS)
  add_compile_options(${WS_SANITIZE_FLAGS})
  add_link_options(${WS_SANITIZE_FLAGS})
  message(STATUS "Sanitizers: ${WS_SANITIZE}")
endif()

if(WS_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "WS_BUILD_FUZZERS needs clang (CMAKE_CXX_COMPILER=clang++-14)")
  endif()
  # Coverage for the fuzzers in every library they link.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
