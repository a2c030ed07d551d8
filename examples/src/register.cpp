// register_all: the example jobs with their tutorial options.
#include "jobs_internal.hpp"

namespace kiq::examples {
namespace {

using Perform = void (*)(FakeWorld&, JobContext&, const Json&);

void add(JobRegistry& r, const std::shared_ptr<FakeWorld>& w, const char* name, Perform fn,
         JobOptions options) {
  r.add(name, [w, fn](JobContext& ctx, const Json& args) { fn(*w, ctx, args); }, std::move(options));
}

JobOptions on(std::string queue, RetryOption retry = true) {
  JobOptions options;
  options.queue = std::move(queue);
  options.retry = retry;
  return options;
}

}  // namespace

void register_all(JobRegistry& r, std::shared_ptr<FakeWorld> w) {
  using namespace detail;
  add(r, w, kUserNotificationJob, user_notification, on("default"));
  add(r, w, kReportGeneratorJob, report_generator, on("reports"));
  add(r, w, kReportSectionJob, report_section, on("reports"));
  add(r, w, kCombineReportSectionsJob, combine_report_sections, on("reports"));
  add(r, w, kPaymentProcessorJob, payment_processor, on("payments", 5));
  add(r, w, kCustomerNotificationJob, customer_notification, on("default"));
  add(r, w, kScheduledReportJob, scheduled_report, on("reports"));
  add(r, w, kReportDeliveryJob, report_delivery, on("default"));
  add(r, w, kUserSyncJob, user_sync, on("sync"));
}

std::shared_ptr<FakeWorld> register_all(JobRegistry& r) {
  auto world = FakeWorld::seeded(epoch_now());
  register_all(r, world);
  return world;
}

}  // namespace kiq::examples
