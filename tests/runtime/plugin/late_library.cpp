// A library the frame_info test loads with dlopen() after its first
// symbolization: describe_pc() must see modules loaded since.
namespace late_library {
extern "C" __attribute__((noinline, visibility("default"))) int late_library_entry(int x) { return x * 3 + 1; }
}  // namespace late_library
