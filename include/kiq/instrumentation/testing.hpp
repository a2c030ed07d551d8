// TracingHarness: span assertions for job tests, the way the tutorial's RSpec tests do them
// (in-memory exporter + simple span processor, reset between tests), on top of kiq's test mode.
//
//   kiq::testing::TracingHarness t(registry);            // inline mode, link propagation
//   t.client().perform_async("UserNotificationJob", {42, "welcome"});
//   auto fetch = t.find("job.fetch_user");
//   ASSERT_TRUE(fetch);
//   EXPECT_EQ(t.attribute(*fetch, "user.id"), kiq::otel::AttributeValue(std::int64_t{42}));
//
// It installs an SDK TracerProvider (SimpleSpanProcessor -> InMemorySpanExporter, plus the
// job-attributes processor) as the GLOBAL provider for its lifetime and restores the previous
// one on destruction, so job code using kiq::otel::get_tracer("app") is captured. Use one
// harness at a time per process.
//
// Thread-safety: for one test thread (jobs may end spans on other threads; the exporter is
// thread-safe).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiq/otel/sdk/exporters/in_memory.hpp"
#include "kiq/otel/sdk/span_data.hpp"
#include "kiq/otel/sdk/tracer_provider.hpp"
#include "kiq/testing.hpp"
#include "kiq/tracing.hpp"

namespace kiq::testing {

class TracingHarness {
 public:
  // `registry` must outlive the harness.
  explicit TracingHarness(const JobRegistry& registry, tracing::TracingOptions options = {},
                          Mode mode = Mode::kInline);
  ~TracingHarness();
  TracingHarness(const TracingHarness&) = delete;
  TracingHarness& operator=(const TracingHarness&) = delete;

  Client& client() { return jobs_->client(); }
  Harness& jobs() { return *jobs_; }
  otel::TracerPtr tracer(std::string_view name = "app");

  // Finished spans in end order.
  std::vector<otel::sdk::SpanData> spans() const;
  // The first finished span named `name` (nullopt when none), all of them, or the first one
  // with ERROR status.
  std::optional<otel::sdk::SpanData> find(std::string_view name) const;
  std::vector<otel::sdk::SpanData> find_all(std::string_view name) const;
  std::optional<otel::sdk::SpanData> find_error() const;
  void reset();
  // The finished spans as trees (for failure messages: EXPECT_...() << t.render()).
  std::string render() const;

  // Helpers on SpanData.
  static const otel::AttributeValue* attribute(const otel::sdk::SpanData& span, std::string_view key);
  static const otel::sdk::EventData* event(const otel::sdk::SpanData& span, std::string_view name);

 private:
  std::shared_ptr<otel::sdk::InMemorySpanExporter> exporter_;
  std::shared_ptr<otel::sdk::TracerProvider> provider_;
  std::shared_ptr<otel::TracerProvider> previous_;
  std::unique_ptr<Harness> jobs_;
};

}  // namespace kiq::testing
