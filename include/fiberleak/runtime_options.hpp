// RuntimeOptions: what the fiber-tracking runtime records, and at what cost.
#pragma once

#include <cstddef>

namespace fiberleak {

struct RuntimeOptions {
  // Frames kept per stack (creation and park), at most 128. Default 32.
  // Cost: ~7 ns a frame for every stack that has to be unwound.
  std::size_t stack_depth = 32;
  // Capture the stack at every park. Default on. Off: parks cost ~100 ns
  // less, wait kinds fall back to blocked/sleeping/yield, and dumps show the
  // creation stack only. May be changed at any time.
  bool capture_park_stacks = true;
  // Capture the stack where each fiber is created (launch::post). Default on;
  // one capture per fiber. May be changed at any time.
  bool capture_creation_stacks = true;
  // Recognise a stack seen before at the same place without unwinding it
  // (ParkStackCache: checks every return address where the last unwind found
  // it). Default on: a repeated park costs ~10 ns instead of ~100. Off
  // ("exact"): every park and creation is unwound. May be changed at any time.
  bool cache_stacks = true;
  // Distinct stacks kept (creation and park stacks share one table).
  // Default 65536 (~17 MiB reserved, resident only as used). Full: new
  // stacks are counted in stacks_dropped and recorded as "no stack".
  std::size_t stack_table_capacity = 65536;
  // Live fibers tracked at once. Default 4M (records are 192 bytes, in
  // chunks allocated as the population grows and reused afterwards). Past
  // it fibers run untracked and are counted in records_dropped.
  std::size_t max_fibers = std::size_t{1} << 22;
};

}  // namespace fiberleak
