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
  # The test frameworks fiberleak::catch2 and fiberleak::gtest plug into
  # (testing/): each target is built when its framework is installed
  # (Debian's catch2, libgtest-dev).
  find_package(Catch2 2 QUIET)
  find_package(GTest QUIET)
endif()

# elfutils' libdw: inline-aware DWARF symbolization (runtime/frame_info.cpp).
pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET libdw)
# libiberty's demangler, for names without return types (runtime/function_name.cpp):
# its one object is built into libfiberleak_runtime (runtime/CMakeLists.txt).
find_library(FIBERLEAK_LIBIBERTY NAMES libiberty.a)
find_path(FIBERLEAK_LIBIBERTY_INCLUDE libiberty/demangle.h)
if(NOT FIBERLEAK_LIBIBERTY OR NOT FIBERLEAK_LIBIBERTY_INCLUDE)
  message(FATAL_ERROR "libiberty.a and <libiberty/demangle.h> not found (install libiberty-dev)")
endif()
