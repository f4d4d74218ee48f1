// The explicit leak check inside a Catch2 v2 test case (link
// fiberleak::catch2, whose listener checks every test case at its end
// anyway; see <fiberleak/testing.hpp>):
//
//   TEST_CASE("the pool stops its workers") {
//     pool.stop();
//     FIBERLEAK_CHECK_NO_LEAKS();                      // fails, and goes on
//     FIBERLEAK_REQUIRE_NO_LEAKS(options);             // fails, and stops the test
//   }
//
// Both take optional fiberleak::testing::Options and report the fibers the
// running test case created and left alive (testing::verify_none()).
#pragma once

#include <catch2/catch.hpp>

#include <fiberleak/testing.hpp>

#define FIBERLEAK_CHECK_NO_LEAKS(...)                                                  \
  do {                                                                                 \
    const ::fiberleak::testing::Leaks fiberleak_leaks_ =                               \
        ::fiberleak::testing::verify_none(::fiberleak::testing::Options{__VA_ARGS__}); \
    if (!fiberleak_leaks_.empty()) FAIL_CHECK(fiberleak_leaks_.report);                \
  } while (false)

#define FIBERLEAK_REQUIRE_NO_LEAKS(...)                                                \
  do {                                                                                 \
    const ::fiberleak::testing::Leaks fiberleak_leaks_ =                               \
        ::fiberleak::testing::verify_none(::fiberleak::testing::Options{__VA_ARGS__}); \
    if (!fiberleak_leaks_.empty()) FAIL(fiberleak_leaks_.report);                      \
  } while (false)
