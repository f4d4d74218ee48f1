// A deterministic FiberDump for golden-file tests: three fibers parked at
// two sites, one running main fiber, with inlined frames, a creator, names
// and labels.
#pragma once

#include "profiler/fiber_dump.hpp"

namespace fiberleak::detail::testing {

inline DumpFrame frame(std::uint64_t pc, const char* function, const char* file, int line, bool inlined = false) {
  DumpFrame f;
  f.pc = pc;
  f.function = function;
  f.file = file;
  f.line = line;
  f.inlined = inlined;
  return f;
}

inline FiberDump sample_dump() {
  FiberDump d;
  d.taken_at_ns = 1'000'000'000'000;
  DumpedFiber main_fiber;
  main_fiber.id = fiberleak::FiberId{1};
  main_fiber.is_main = true;
  main_fiber.state = FiberState::running;
  main_fiber.wait_reason = "running";
  d.fibers.push_back(main_fiber);

  const std::vector<DumpFrame> receive_stack{
      frame(0x401000, "boost::fibers::scheduler::suspend()", "", 0),
      frame(0x402010, "boost::fibers::buffered_channel<int>::pop(int&)",
            "/usr/include/boost/fiber/buffered_channel.hpp", 400, true),
      frame(0x402010, "app::wait_for_orders(boost::fibers::buffered_channel<int>&)", "/src/app/orders.cpp", 42),
      frame(0x403020, "app::order_worker()", "/src/app/orders.cpp", 57),
  };
  const std::vector<DumpFrame> creation{
      frame(0x404030, "boost::fibers::fiber::start_()", "", 0),
      frame(0x405040, "app::start_workers(int)", "/src/app/main.cpp", 12),
  };
  for (std::uint64_t id : {7, 8}) {
    DumpedFiber f;
    f.id = fiberleak::FiberId{id};
    f.parent = fiberleak::FiberId{1};
    f.name = "order-worker";
    f.state = FiberState::blocked;
    f.wait = WaitKind::channel_pop;
    f.wait_reason = "chan receive";
    f.blocked_ns = id == 7 ? 185'000'000'000 : 5'000'000'000;  // 3 minutes and 5 seconds
    f.stack = receive_stack;
    f.creation_stack = creation;
    d.fibers.push_back(f);
  }
  DumpedFiber locker;
  locker.id = fiberleak::FiberId{9};
  locker.parent = fiberleak::FiberId{7};
  locker.state = FiberState::blocked;
  locker.wait = WaitKind::mutex;
  locker.wait_reason = "mutex lock";
  locker.labels = {{"request", "r7 \"quoted\""}};
  locker.blocked_ns = 61'000'000'000;
  locker.stack = std::vector<DumpFrame>{frame(0x401000, "boost::fibers::scheduler::suspend()", "", 0),
                                        frame(0x406050, "boost::fibers::mutex::lock()", "", 0),
                                        frame(0x407060, "app::update_ledger()", "/src/app/ledger.cpp", 88)};
  locker.creation_stack = std::vector<DumpFrame>{frame(0x408070, "app::order_worker()", "/src/app/orders.cpp", 60)};
  d.fibers.push_back(locker);
  return d;
}

}  // namespace fiberleak::detail::testing
