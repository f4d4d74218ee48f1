// Must not compile: fiberleak cannot honour an algorithm's own
// new_properties() (tests/runtime/CMakeLists.txt expects install()'s
// static_assert message).
#include <boost/fiber/all.hpp>

#include <fiberleak/runtime.hpp>

struct Props : boost::fibers::fiber_properties {
  explicit Props(boost::fibers::context* ctx) : fiber_properties(ctx) {}
};

struct CustomAllocating : boost::fibers::algo::algorithm_with_properties<Props> {
  boost::fibers::fiber_properties* new_properties(boost::fibers::context* ctx) override { return new Props(ctx); }
  void awakened(boost::fibers::context*, Props&) noexcept override {}
  boost::fibers::context* pick_next() noexcept override { return nullptr; }
  bool has_ready_fibers() const noexcept override { return false; }
  void suspend_until(std::chrono::steady_clock::time_point const&) noexcept override {}
  void notify() noexcept override {}
};

int main() { fiberleak::install<CustomAllocating>(); }
