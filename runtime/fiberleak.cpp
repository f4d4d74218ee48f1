#include <boost/fiber/context.hpp>

#include <fiberleak/runtime.hpp>

#include "runtime/fiber_record.hpp"
#include "runtime/fiber_registry.hpp"
#include "runtime/tracking_algorithm.hpp"

namespace fiberleak {
namespace {

using detail::FiberRecord;
using detail::FiberRegistry;
using detail::TrackingAlgorithm;

thread_local bool t_counted = false;  // counted in threads_installed

FiberRecord* tracked_record(boost::fibers::fiber_properties* props) noexcept {
  auto* record = dynamic_cast<FiberRecord*>(props);
  if (record == nullptr) {  // the program's own properties, with the record beside them
    if (auto* link = dynamic_cast<detail::RecordLink*>(props)) record = static_cast<FiberRecord*>(link->record);
  }
  return record != nullptr && record->tracked() ? record : nullptr;
}

FiberRecord* running_record() noexcept {
  if (TrackingAlgorithm::on_this_thread() == nullptr) return nullptr;
  return tracked_record(boost::fibers::context::active()->get_properties());
}

}  // namespace

bool configure(const RuntimeOptions& options) noexcept { return FiberRegistry::configure(options); }

namespace detail {

void release_record(void* record) noexcept { delete static_cast<FiberRecord*>(record); }

void install_algorithm(boost::intrusive_ptr<boost::fibers::algo::algorithm> inner, const PropertiesHooks* hooks) {
  FiberRegistry& registry = FiberRegistry::instance();
  auto* algorithm = new TrackingAlgorithm(std::move(inner), hooks);
  boost::intrusive_ptr<boost::fibers::algo::algorithm> holder(algorithm);
  // set_algo() hands fibers that are ready now to the new algorithm: they
  // get records through new_properties() while `adopting` is on.
  // Boost's thread-local scheduler first, then make_current()'s exit
  // sentinel, so that the sentinel is destroyed first at thread exit.
  boost::fibers::scheduler* scheduler = boost::fibers::context::active()->get_scheduler();
  algorithm->make_current();  // the algorithm set_algo() replaces ends as expected
  algorithm->set_adopting(true);
  scheduler->set_algo(holder);
  algorithm->set_adopting(false);
  algorithm->adopt_main_fiber();
  if (!t_counted) registry.count_installed_thread();
  t_counted = true;
}

void name_new_fiber(boost::fibers::fiber& f, std::string_view name) noexcept {
  // launch::post made the record already (in awakened) when this thread is tracked.
  if (TrackingAlgorithm::on_this_thread() == nullptr) return;
  if (FiberRecord* r = tracked_record(&f.properties<boost::fibers::fiber_properties>())) r->set_name(name);
}

}  // namespace detail

bool installed() noexcept { return TrackingAlgorithm::on_this_thread() != nullptr; }

label_scope::label_scope(std::string_view key, std::string_view value) noexcept {
  FiberRecord* r = running_record();
  if (r == nullptr) return;
  detail::FiberSlot& s = r->slot();
  detail::LabelSet labels = s.labels();
  static_assert(sizeof saved_ / sizeof saved_[0] == detail::LabelSet::kWords, "label_scope::saved_ is a LabelSet");
  for (std::size_t w = 0; w < detail::LabelSet::kWords; ++w) saved_[w] = labels.word(w);
  if (!labels.set(key, value)) {
    FiberRegistry::instance().count_dropped_label();
    return;
  }
  record_ = r;
  s.begin_write();
  s.set_labels(labels);
  s.end_write();
}

label_scope::~label_scope() {
  if (record_ == nullptr) return;
  detail::LabelSet labels;
  for (std::size_t w = 0; w < detail::LabelSet::kWords; ++w) labels.set_word(w, saved_[w]);
  detail::FiberSlot& s = static_cast<FiberRecord*>(record_)->slot();
  s.begin_write();
  s.set_labels(labels);
  s.end_write();
}

namespace this_fiber {
void set_name(std::string_view name) noexcept {
  if (FiberRecord* r = running_record()) r->set_name(name);
}
FiberId id() noexcept {
  FiberRecord* r = running_record();
  return r == nullptr ? kNoFiber : r->id();
}
}  // namespace this_fiber

Snapshot snapshot() { return FiberRegistry::instance().snapshot(); }
RuntimeCounters counters() noexcept { return FiberRegistry::instance().counters(); }
StackView stack(StackId id) noexcept { return FiberRegistry::instance().stacks().frames(id); }

}  // namespace fiberleak
