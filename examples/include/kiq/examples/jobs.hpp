// The jobs of the Sidekiq + OpenTelemetry tutorial, in C++ (shared/reference/tutorial-scenarios.md):
// same queues, options, span names, attributes, events and error handling. The automatic
// publish/process spans come from kiq's instrumentation; these jobs add the tutorial's custom
// spans with the tracer named "app".
//
//   kiq::JobRegistry registry;
//   auto world = kiq::examples::FakeWorld::seeded(kiq::epoch_now());
//   kiq::examples::register_all(registry, world);
//
// Jobs validate their arguments and throw std::invalid_argument with a clear message on bad
// input (the engine then retries / kills the job as usual).
//
// Thread-safety: registered functions are thread-safe (the FakeWorld is).
#pragma once

#include <memory>

#include "kiq/examples/fake_world.hpp"
#include "kiq/job.hpp"

namespace kiq::examples {

inline constexpr const char* kUserNotificationJob = "UserNotificationJob";          // default
inline constexpr const char* kReportGeneratorJob = "ReportGeneratorJob";            // reports
inline constexpr const char* kReportSectionJob = "ReportSectionJob";                // reports
inline constexpr const char* kCombineReportSectionsJob = "CombineReportSectionsJob";  // reports
inline constexpr const char* kPaymentProcessorJob = "PaymentProcessorJob";          // payments, retry 5
inline constexpr const char* kCustomerNotificationJob = "CustomerNotificationJob";  // default
inline constexpr const char* kScheduledReportJob = "ScheduledReportJob";            // reports
inline constexpr const char* kReportDeliveryJob = "ReportDeliveryJob";              // default
inline constexpr const char* kUserSyncJob = "UserSyncJob";                          // sync

// Name of the tracer the jobs use (the tutorial's `tracer('app')`).
inline constexpr const char* kTracerName = "app";
// Section results TTL (the tutorial's SETEX 3600).
inline constexpr int kSectionTtlSeconds = 3600;

// Registers every job above, bound to `world`.
void register_all(JobRegistry& registry, std::shared_ptr<FakeWorld> world);
// Same with FakeWorld::seeded(now) (what the function of the brief, register_all(registry), does).
std::shared_ptr<FakeWorld> register_all(JobRegistry& registry);

}  // namespace kiq::examples
