#include "runtime/stack_table.hpp"

#include <catch2/catch.hpp>

#include <vector>

using fiberleak::detail::StackTable;

TEST_CASE("equal stacks get one id and different stacks different ids", "[runtime]") {
  StackTable table(64, 8);
  const std::uintptr_t a[] = {1, 2, 3};
  const std::uintptr_t b[] = {1, 2, 4};
  const auto ia = table.insert(a, 3);
  CHECK(ia != fiberleak::kNoStack);
  CHECK(table.insert(a, 3) == ia);
  CHECK(table.insert(b, 3) != ia);
  CHECK(table.size() == 2);
  const auto view = table.frames(ia);
  REQUIRE(view.size == 3);
  CHECK(view.pcs[2] == 3);
}

TEST_CASE("stacks deeper than the table's depth are truncated", "[runtime]") {
  StackTable table(64, 4);
  std::vector<std::uintptr_t> deep(10);
  for (std::size_t i = 0; i < deep.size(); ++i) deep[i] = i + 100;
  const auto id = table.insert(deep.data(), deep.size());
  const auto view = table.frames(id);
  REQUIRE(view.size == 4);
  // The innermost four frames are kept, in order.
  CHECK(std::vector<std::uintptr_t>(view.pcs, view.pcs + view.size) == std::vector<std::uintptr_t>{100, 101, 102, 103});
  // A stack that differs only below the cut is the same truncated stack.
  deep[9] = 999;
  CHECK(table.insert(deep.data(), deep.size()) == id);
  deep[3] = 999;
  CHECK(table.insert(deep.data(), deep.size()) != id);
}

TEST_CASE("a full stack table drops and counts new stacks instead of failing", "[runtime]") {
  StackTable table(16, 2);
  std::size_t stored = 0;
  for (std::uintptr_t i = 1; i <= 100; ++i) {
    const std::uintptr_t pcs[] = {i, i + 1};
    stored += table.insert(pcs, 2) != fiberleak::kNoStack ? 1 : 0;
  }
  CHECK(stored == table.size());
  CHECK(stored < 16);
  CHECK(table.dropped() == 100 - stored);
  CHECK(table.insert(nullptr, 0) == fiberleak::kNoStack);
  CHECK(table.frames(fiberleak::StackId{9999}).empty());
}
