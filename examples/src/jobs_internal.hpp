// The example jobs' perform functions (registered by register_all in register.cpp).
#pragma once

#include "kiq/examples/fake_world.hpp"
#include "kiq/examples/jobs.hpp"
#include "kiq/job.hpp"
#include "kiq/otel/tracer_provider.hpp"

namespace kiq::examples::detail {

inline otel::TracerPtr app_tracer() { return otel::get_tracer(kTracerName); }

// Span start options with just attributes (the tutorial's `in_span(name, attributes: {...})`).
inline otel::StartSpanOptions with_attributes(otel::Attributes attributes) {
  otel::StartSpanOptions options;
  options.attributes = std::move(attributes);
  return options;
}

void user_notification(FakeWorld& w, JobContext& ctx, const Json& args);
void report_generator(FakeWorld& w, JobContext& ctx, const Json& args);
void report_section(FakeWorld& w, JobContext& ctx, const Json& args);
void combine_report_sections(FakeWorld& w, JobContext& ctx, const Json& args);
void payment_processor(FakeWorld& w, JobContext& ctx, const Json& args);
void customer_notification(FakeWorld& w, JobContext& ctx, const Json& args);
void scheduled_report(FakeWorld& w, JobContext& ctx, const Json& args);
void report_delivery(FakeWorld& w, JobContext& ctx, const Json& args);
void user_sync(FakeWorld& w, JobContext& ctx, const Json& args);

}  // namespace kiq::examples::detail
