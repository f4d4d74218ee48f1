# Every third-party dependency comes from a Debian package (scripts/install-deps).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS fiber context)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBUNWIND REQUIRED IMPORTED_TARGET libunwind)

if(NOT FIBERLEAK_RUNTIME_ONLY)
  find_package(ZLIB REQUIRED)
  find_package(nlohmann_json 3 REQUIRED)
  find_package(spdlog REQUIRED)
  # Debian ships cpp-httplib split: declarations in httplib.h, the code in
  # libcpp-httplib.so, built with OpenSSL, zlib and Brotli support; the
  # pkg-config file carries the matching defines (fiberleak's own code gets
  # them; users who include <fiberleak/mount.hpp> bring their httplib setup).
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()

# GCC's libbacktrace (shipped with g++, as a static archive in the compiler's
# own directory): inline-aware DWARF symbolization. Its objects are built
# into libfiberleak_runtime, so nothing that links the runtime needs to find
# it (runtime/CMakeLists.txt).
execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libbacktrace.a
                OUTPUT_VARIABLE FIBERLEAK_LIBBACKTRACE OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT EXISTS "${FIBERLEAK_LIBBACKTRACE}")
  message(FATAL_ERROR "libbacktrace.a not found (it ships with g++: install g++/libgcc-12-dev)")
endif()
get_filename_component(_fiberleak_gcc_dir "${FIBERLEAK_LIBBACKTRACE}" DIRECTORY)
set(FIBERLEAK_LIBBACKTRACE_INCLUDE "${_fiberleak_gcc_dir}/include")
