// trim_to_entry(): a stack ends at the user's entry, never loses a user
// frame, and a stack of library code alone keeps what says where it runs.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "profiler/dump_builder.hpp"

using fiberleak::detail::DumpFrame;

namespace {
std::vector<DumpFrame> frames(std::vector<std::pair<const char*, const char*>> names) {
  std::vector<DumpFrame> out;
  for (const auto& [function, file] : names) out.push_back({0x1000, function, file, 1, false});
  return out;
}
std::vector<std::string> functions(const std::vector<DumpFrame>& fs) {
  std::vector<std::string> out;
  for (const DumpFrame& f : fs) out.push_back(f.function);
  return out;
}
}  // namespace

TEST_CASE("a stack ends at its outermost user frame", "[profiler]") {
  auto fs = frames({{"boost::fibers::scheduler::suspend", ""},
                    {"app::wait", "/src/app.cpp"},
                    {"std::__invoke_impl<void, app::run()::{lambda()#1}>", "/usr/include/c++/12/bits/invoke.h"},
                    {"app::run()::{lambda()#1}", "/src/app.cpp"},
                    {"std::__invoke<app::run()::{lambda()#1}>", "/usr/include/c++/12/bits/invoke.h"},
                    {"boost::fibers::worker_context<...>::run_", "/usr/include/boost/fiber/context.hpp"},
                    {"make_fcontext", ""}});
  fiberleak::detail::trim_to_entry(fs);
  CHECK(functions(fs) == std::vector<std::string>{"boost::fibers::scheduler::suspend", "app::wait",
                                                  "std::__invoke_impl<void, app::run()::{lambda()#1}>",
                                                  "app::run()::{lambda()#1}"});
}

TEST_CASE("a fiber with no user frame keeps its frames down to worker_context's run_", "[profiler]") {
  auto fs = frames({{"boost::fibers::scheduler::suspend", ""},
                    {"boost::fibers::worker_context<app::Job>::run_", "/usr/include/boost/fiber/context.hpp"},
                    {"boost::context::detail::fiber_entry<...>", "/usr/include/boost/context/fiber_fcontext.hpp"},
                    {"make_fcontext", ""}});
  fiberleak::detail::trim_to_entry(fs);
  CHECK(functions(fs) ==
        std::vector<std::string>{"boost::fibers::scheduler::suspend", "boost::fibers::worker_context<app::Job>::run_"});
}

TEST_CASE("a thread of library code alone loses only the C runtime's start frames", "[profiler]") {
  auto fs = frames({{"Catch::Session::Session", "/usr/include/catch2/catch.hpp"},
                    {"main", "/usr/include/catch2/catch.hpp"},
                    {"__libc_start_call_main", "../sysdeps/nptl/libc_start_call_main.h"},
                    {"__libc_start_main@@GLIBC_2.34", "../csu/libc-start.c"},
                    {"_start", ""}});
  fiberleak::detail::trim_to_entry(fs);
  CHECK(functions(fs) == std::vector<std::string>{"Catch::Session::Session", "main"});
  auto thread = frames({{"std::condition_variable::wait", ""},
                        {"libstdc++.so.6.0.30+0xd44a2", ""},
                        {"start_thread", "./nptl/pthread_create.c"},
                        {"__clone3", ""}});
  fiberleak::detail::trim_to_entry(thread);
  CHECK(functions(thread) == std::vector<std::string>{"std::condition_variable::wait"});
}
