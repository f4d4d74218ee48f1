// describe_pc(): every function at a pc, named as the profiles name them,
// whatever was loaded when.
#include "runtime/frame_info.hpp"

#include <dlfcn.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

namespace {
__attribute__((noinline)) int described_here(int x) { return x + 1; }
}  // namespace

TEST_CASE("a library loaded after the first symbolization is symbolized too", "[runtime]") {
  using fiberleak::detail::describe_pc;
  const auto own = describe_pc(reinterpret_cast<std::uintptr_t>(&described_here));
  REQUIRE_FALSE(own.empty());
  CHECK(own.back().function.find("described_here") != std::string::npos);

  void* library = dlopen(FIBERLEAK_LATE_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  REQUIRE(library != nullptr);
  void* entry = dlsym(library, "late_library_entry");
  REQUIRE(entry != nullptr);
  const auto late = describe_pc(reinterpret_cast<std::uintptr_t>(entry));
  REQUIRE_FALSE(late.empty());
  CHECK(late.back().function == "late_library_entry");
  CHECK(late.back().file.find("late_library.cpp") != std::string::npos);
  dlclose(library);
}

TEST_CASE("code of a shared library without symbols is library code; the program's own is not", "[runtime]") {
  using fiberleak::detail::is_library_function;
  CHECK(is_library_function("libstdc++.so.6.0.30+0xd44a2"));
  CHECK(is_library_function("libc.so.6+0x29d90"));
  CHECK(is_library_function("__clone3"));
  CHECK_FALSE(is_library_function("server+0x1234"));  // a stripped program: all it shows of itself
  CHECK_FALSE(is_library_function("app::parse(std::string const&)"));
}
