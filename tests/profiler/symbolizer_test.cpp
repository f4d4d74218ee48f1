#include "profiler/symbolizer.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <regex>
#include <string>

namespace {
bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

[[gnu::noinline]] std::uint64_t address_inside_me() {
  return reinterpret_cast<std::uint64_t>(__builtin_return_address(0));
}
[[gnu::noinline]] std::uint64_t symbolizer_test_caller() {
  const std::uint64_t a = address_inside_me();
  asm volatile("" ::: "memory");  // keep the call a real call, not a tail call
  return a;
}
}  // namespace

TEST_CASE("the symbolizer names a return address with function and file, cached after the first lookup", "[profiler]") {
  fiberleak::detail::Symbolizer symbolizer;
  const std::uint64_t ra = symbolizer_test_caller();
  const auto& frames = symbolizer.frames(ra);
  REQUIRE_FALSE(frames.empty());
  INFO(frames.back().function << " " << frames.back().file);
  CHECK(contains(frames.back().function, "symbolizer_test_caller"));
  CHECK(contains(frames.back().file, "symbolizer_test.cpp"));
  CHECK(frames.back().line > 0);
  CHECK_FALSE(frames.back().inlined);
  CHECK(frames.back().pc == ra);
  CHECK(symbolizer.offset_in_function(ra) > 0);
  CHECK(symbolizer.cached_pcs() == 1);
  CHECK(&symbolizer.frames(ra) == &frames);  // the warm lookup is the cached entry
  CHECK(symbolizer.cached_pcs() == 1);
}

TEST_CASE("the mappings list this executable with its GNU build id", "[profiler]") {
  const auto mappings = fiberleak::detail::Symbolizer::mappings();
  const auto self = reinterpret_cast<std::uint64_t>(&symbolizer_test_caller);
  const fiberleak::detail::Mapping* mine = nullptr;
  for (const auto& m : mappings) {
    if (m.start <= self && self < m.limit) mine = &m;
  }
  REQUIRE(mine != nullptr);
  CHECK(contains(mine->path, "fiberleak_profiler_tests"));
  CHECK(mine->build_id.size() >= 16);
  CHECK(std::regex_match(mine->build_id, std::regex("[0-9a-f]+")));
}

TEST_CASE("the symbolizer's cache stops growing at its cap and still answers every lookup", "[profiler]") {
  fiberleak::detail::Symbolizer symbolizer(2);
  const std::uint64_t ra = symbolizer_test_caller();
  for (std::uint64_t i = 0; i < 5; ++i) {  // ra - i - 1: within the call instruction
    const auto& frames = symbolizer.frames(ra - i);
    REQUIRE_FALSE(frames.empty());
    CHECK(contains(frames.back().function, "symbolizer_test_caller"));
  }
  CHECK(symbolizer.cached_pcs() == 2);
  fiberleak::detail::Symbolizer fresh;
  CHECK(contains(fresh.function_name(ra), "symbolizer_test_caller"));
  CHECK(fresh.cached_pcs() == 0);  // names for addresses from outside are not kept
}
