// A program that starts one fiber through each way Boost.Fiber offers to
// launch one (function, function pointer, lambda, std::bind, member
// function, fiberleak::spawn, launch::dispatch, packaged_task, async), each
// parked in its own kind of wait after keeping one allocation live, and
// writes what fiberleak's profiles say about them into a directory:
// debug1.txt, debug2.txt, goroutine.pb.gz, heap.pb.gz and summary.txt (one
// line per fiber: its top user frame and its last frame, the golden file's
// content). Built at -O0 and -O2 by tests/profiler/CMakeLists.txt; driven by
// launch_paths_test.sh. Keep each wait on a line of its own: the golden file
// names the lines.
#include <boost/fiber/all.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fiberleak/heap.hpp>
#include <fiberleak/runtime.hpp>

#include "profiler/dump_builder.hpp"
#include "profiler/goroutine_profile.hpp"
#include "profiler/goroutine_text.hpp"
#include "profiler/heap_profile.hpp"

namespace fibers = boost::fibers;

namespace {

fibers::mutex g_cv_mutex;
fibers::condition_variable g_cv;
bool g_released = false;
fibers::mutex g_locked;                   // held by main while the fibers are looked at
fibers::buffered_channel<int> g_full{2};  // capacity 2 holds one value: full after one push
fibers::buffered_channel<int> g_empty{2};
fibers::unbuffered_channel<int> g_handoff;
fibers::unbuffered_channel<int> g_quiet;    // sent to only by main, at the end
fibers::promise<int>* g_promise = nullptr;  // main's: a global one would outlive the scheduler
bool g_stop_sleeping = false;

// Each entry function keeps one block live, so the heap profile shows it.
std::vector<std::unique_ptr<char[]>> g_kept;
void keep_allocation() { g_kept.push_back(std::make_unique<char[]>(4096)); }

}  // namespace

namespace app {

void wait_for_condition() {
  keep_allocation();
  std::unique_lock<fibers::mutex> lock(g_cv_mutex);
  while (!g_released) g_cv.wait(lock);
}

void receive_from_empty_channel() {
  keep_allocation();
  int value = 0;
  g_empty.pop(value);
}

void send_to_full_channel(int value) {
  keep_allocation();
  g_full.push(value);
}

class Server {
 public:
  void serve() {
    keep_allocation();
    answer_ = g_promise->get_future().get();
  }

 private:
  int answer_ = 0;
};

int compute_answer() {
  keep_allocation();
  int value = 0;
  g_quiet.pop(value);
  return value;
}

int await_answer() {
  keep_allocation();
  std::unique_lock<fibers::mutex> lock(g_cv_mutex);
  while (!g_released) g_cv.wait(lock);
  return 42;
}

void join_sleeper(fibers::fiber& sleeper) {
  keep_allocation();
  sleeper.join();
}

// Two lambdas in one function: their names must differ.
std::vector<fibers::fiber> start_lambdas(int n) {
  std::vector<fibers::fiber> out;
  out.emplace_back([n] {
    keep_allocation();
    std::lock_guard<fibers::mutex> lock(g_locked);
    (void)n;
  });
  out.emplace_back([] {
    keep_allocation();
    while (!g_stop_sleeping) boost::this_fiber::sleep_for(std::chrono::milliseconds(5));
  });
  return out;
}

}  // namespace app

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  fiberleak::heap::configure({1, 1});  // every allocation
  fiberleak::install();
  g_locked.lock();
  fibers::promise<int> promise;
  g_promise = &promise;

  // Every fiber inherits handler=launch from main; the member function's
  // and async's fibers also request=r42, and lose it when it ends.
  fiberleak::label_scope handler("handler", "launch");
  std::optional<fiberleak::label_scope> request;
  void (*function_pointer)() = &app::receive_from_empty_channel;
  app::Server server;
  std::vector<fibers::fiber> fibers_started;
  fibers_started.emplace_back(app::wait_for_condition);
  fibers_started.emplace_back(function_pointer);
  std::vector<fibers::fiber> lambdas = app::start_lambdas(7);
  fibers_started.push_back(std::move(lambdas[0]));
  fibers::fiber sleeper = std::move(lambdas[1]);
  g_full.push(1);
  fibers_started.emplace_back(std::bind(&app::send_to_full_channel, 2));
  request.emplace("request", "r42");
  fibers_started.emplace_back(&app::Server::serve, &server);
  request.reset();
  fibers_started.push_back(fiberleak::spawn("joiner", app::join_sleeper, std::ref(sleeper)));
  fibers_started.emplace_back(fibers::launch::dispatch, [] {
    keep_allocation();
    g_handoff.push(1);
  });
  fibers::packaged_task<int()> task(app::compute_answer);
  fibers::future<int> task_result = task.get_future();
  fibers_started.emplace_back(std::move(task));
  request.emplace("request", "r42");
  fibers::future<int> async_result = fibers::async(app::await_answer);
  request.reset();

  // Wait until every fiber but main is parked (the sleeper wakes and parks
  // again: poll for a moment all are).
  for (;;) {
    boost::this_fiber::yield();
    const fiberleak::Snapshot s = fiberleak::snapshot();
    std::size_t parked = 0;
    for (const auto& f : s.fibers) parked += f.parked() ? 1 : 0;
    if (parked == s.fibers.size() - 1 && s.fibers.size() >= 11) break;
  }

  using namespace fiberleak::detail;
  const FiberDump dump = build_dump(fiberleak::snapshot());
  const auto mappings = Symbolizer::mappings();
  std::ofstream(dir + "/debug1.txt") << render_debug1(dump, &Symbolizer::instance());
  std::ofstream(dir + "/debug2.txt") << render_debug2(dump, &Symbolizer::instance());
  std::ofstream(dir + "/goroutine.pb.gz", std::ios::binary) << goroutine_profile(dump, mappings);
  std::ofstream(dir + "/heap.pb.gz", std::ios::binary) << heap_profile(collect_heap(), HeapProfileKind::heap, mappings);
  std::ofstream summary(dir + "/summary.txt");
  for (const DumpedFiber& f : dump.fibers) {
    if (f.is_main) continue;
    const DumpFrame* top = top_user_frame(f.stack);
    const std::string file = top == nullptr ? "?" : top->file.substr(top->file.rfind('/') + 1);
    summary << "fiber [" << f.wait_reason << "]: top " << (top == nullptr ? "?" : top->function) << " at " << file
            << ":" << (top == nullptr ? 0 : top->line) << ", entry " << f.stack.frames().back().function << ", labels "
            << labels_text(f.shown_labels()) << "\n";
  }
  summary.close();

  // Release everyone and end cleanly.
  {
    std::lock_guard<fibers::mutex> lock(g_cv_mutex);
    g_released = true;
  }
  g_cv.notify_all();
  g_locked.unlock();
  int value = 0;
  g_full.pop(value);
  g_empty.push(1);
  g_promise->set_value(1);
  g_handoff.pop(value);
  g_quiet.push(2);
  g_stop_sleeping = true;
  for (fibers::fiber& f : fibers_started) {
    if (f.joinable()) f.join();
  }
  (void)task_result.get();
  (void)async_result.get();
  return 0;
}
