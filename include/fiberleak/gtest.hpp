// The explicit leak check inside a GoogleTest test (link fiberleak::gtest,
// whose listener checks every test at its end anyway; see
// <fiberleak/testing.hpp>):
//
//   TEST(Pool, StopsItsWorkers) {
//     pool.stop();
//     FIBERLEAK_EXPECT_NO_LEAKS();         // fails, and goes on
//     FIBERLEAK_ASSERT_NO_LEAKS(options);  // fails, and returns from the test
//   }
//
// Both take optional fiberleak::testing::Options and report the fibers the
// running test created and left alive (testing::verify_none()).
#pragma once

#include <gtest/gtest.h>

#include <fiberleak/testing.hpp>

#define FIBERLEAK_EXPECT_NO_LEAKS(...)                                                   \
  if (const ::fiberleak::testing::Leaks fiberleak_leaks_ =                               \
          ::fiberleak::testing::verify_none(::fiberleak::testing::Options{__VA_ARGS__}); \
      fiberleak_leaks_.empty()) {                                                        \
  } else                                                                                 \
    ADD_FAILURE() << fiberleak_leaks_.report

#define FIBERLEAK_ASSERT_NO_LEAKS(...)                                                   \
  if (const ::fiberleak::testing::Leaks fiberleak_leaks_ =                               \
          ::fiberleak::testing::verify_none(::fiberleak::testing::Options{__VA_ARGS__}); \
      fiberleak_leaks_.empty()) {                                                        \
  } else                                                                                 \
    FAIL() << fiberleak_leaks_.report
