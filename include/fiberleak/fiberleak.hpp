// fiberleak: everything most programs use. The runtime (install(), spawn(),
// snapshot()) and serving the endpoint on its own thread (serve()). Link
// fiberleak::fiberleak.
//
//   #include <fiberleak/fiberleak.hpp>
//
//   int main() {
//     fiberleak::install();                 // on each scheduler thread
//     auto server = fiberleak::serve();     // http://127.0.0.1:6060/debug/goroutine
//     ...
//   }
//
// The parts, for programs that want less: <fiberleak/runtime.hpp> (link
// fiberleak::runtime only: no HTTP, JSON or logging dependencies),
// <fiberleak/serve.hpp>, <fiberleak/mount.hpp> (routes on the program's own
// httplib server), <fiberleak/heap.hpp> (the heap profiler, fiberleak::heap).
#pragma once

#include <fiberleak/runtime.hpp>
#include <fiberleak/serve.hpp>
