// Trace tree rendering and the batch helper.
#include <gtest/gtest.h>

#include "kiq/instrumentation/batch.hpp"
#include "kiq/instrumentation/testing.hpp"
#include "kiq/instrumentation/trace_tree.hpp"
#include "unit/instrumentation/span_helpers.hpp"

namespace kiq {
namespace {

using namespace kiq::test;
using otel::StatusCode;

JobRegistry batch_registry() {
  JobRegistry r;
  r.add("BatchJob", [](JobContext&, const Json& args) {
    auto tracer = otel::get_tracer("app");
    tracing::BatchSpan batch(*tracer, "batch.work", args.size(), {.success_attribute = "sync.success"});
    for (const auto& v : args)
      batch.item("item.work", {{"item.id", v.get<std::int64_t>()}}, [&](otel::Span&) {
        if (v.get<std::int64_t>() % 2 == 0) throw std::runtime_error("even items fail");
      });
  });
  return r;
}

TEST(BatchSpan, RecordsCountsRateEventAndFailingItems) {
  auto registry = batch_registry();
  testing::TracingHarness t(registry);
  t.client().perform_async("BatchJob", Json::array({1, 2, 3, 5}));
  auto batch = t.find("batch.work");
  ASSERT_TRUE(batch) << t.render();
  EXPECT_EQ(i64(*batch, "batch.size"), 4);
  EXPECT_EQ(i64(*batch, "batch.successful"), 3);
  EXPECT_EQ(i64(*batch, "batch.failed"), 1);
  EXPECT_DOUBLE_EQ(dbl(*batch, "batch.success_rate").value_or(-1), 0.75);
  auto low = event(*batch, "low_success_rate");
  ASSERT_TRUE(low);
  EXPECT_DOUBLE_EQ(dbl(low->attributes, "success_rate").value_or(-1), 0.75);
  EXPECT_EQ(i64(low->attributes, "failed_count"), 1);

  auto items = t.find_all("item.work");
  ASSERT_EQ(items.size(), 4u);
  int failed = 0;
  for (const auto& item : items) {
    EXPECT_EQ(item.parent_span_id, batch->context.span_id());
    if (item.status_code == StatusCode::kError) {
      ++failed;
      EXPECT_EQ(item.status_description, "even items fail");
      EXPECT_EQ(boolean(item, "sync.success"), false);
      ASSERT_FALSE(item.events.empty());
      EXPECT_EQ(item.events[0].name, "exception");
    } else {
      EXPECT_EQ(boolean(item, "sync.success"), true);
    }
  }
  EXPECT_EQ(failed, 1);
  // The batch span sits under the job's process span.
  auto process = t.find("default process");
  ASSERT_TRUE(process);
  EXPECT_EQ(batch->parent_span_id, process->context.span_id());
}

TEST(BatchSpan, NoEventAtOrAboveTheThreshold) {
  auto registry = batch_registry();
  testing::TracingHarness t(registry);
  t.client().perform_async("BatchJob", Json::array({1, 3, 5}));
  auto batch = t.find("batch.work");
  ASSERT_TRUE(batch);
  EXPECT_DOUBLE_EQ(dbl(*batch, "batch.success_rate").value_or(-1), 1.0);
  EXPECT_FALSE(event(*batch, "low_success_rate"));
}

TEST(TraceTree, RendersOneIndentedTreePerTraceWithEventsErrorsAndLinks) {
  auto registry = batch_registry();
  testing::TracingHarness t(registry);
  t.client().perform_async("BatchJob", Json::array({1, 2}));
  auto spans = t.spans();
  std::string plain = tracing::render_traces(spans, {});
  EXPECT_NE(plain.find("└─ default process  CONSUMER"), std::string::npos) << plain;
  EXPECT_NE(plain.find("   └─ batch.work"), std::string::npos) << plain;
  EXPECT_NE(plain.find("item.work"), std::string::npos) << plain;
  EXPECT_NE(plain.find("• low_success_rate"), std::string::npos) << plain;
  EXPECT_NE(plain.find("✗ ERROR: even items fail"), std::string::npos) << plain;
  EXPECT_NE(plain.find("↪ link to trace"), std::string::npos) << plain;
  EXPECT_NE(plain.find("(default publish)"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("messaging.system"), std::string::npos) << "compact view hides standard keys";
  EXPECT_EQ(plain.find("\x1b["), std::string::npos) << "no colour unless asked";
  EXPECT_EQ(plain.find("exception.stacktrace"), std::string::npos);

  tracing::TreeOptions coloured;
  coloured.color = true;
  coloured.all_attributes = true;
  std::string colour = tracing::render_traces(spans, coloured);
  EXPECT_NE(colour.find("\x1b[1;31m"), std::string::npos);
  EXPECT_NE(colour.find("messaging.system"), std::string::npos);
}

TEST(TraceTree, HandlesEmptyInputOrphansAndFormats) {
  EXPECT_EQ(tracing::render_traces({}, {}), "");
  otel::sdk::SpanData orphan;
  orphan.context = otel::SpanContext(otel::TraceId::random(), otel::SpanId::random(), otel::TraceFlags(1), false);
  orphan.parent_span_id = otel::SpanId::random();
  orphan.name = "lonely";
  orphan.start_unix_nano = 1000;
  orphan.end_unix_nano = 500;  // malformed: end before start must not crash
  std::vector<otel::sdk::SpanData> one{orphan};
  std::string out = tracing::render_traces(one, {});
  EXPECT_NE(out.find("not recorded here"), std::string::npos) << out;
  EXPECT_NE(out.find("lonely"), std::string::npos);
  EXPECT_EQ(tracing::format_duration(1'500'000), "1.5 ms");
  EXPECT_EQ(tracing::format_duration(2'500'000'000), "2.50 s");
  EXPECT_EQ(tracing::format_value(otel::AttributeValue(0.75)), "0.75");
  EXPECT_EQ(tracing::format_value(otel::AttributeValue(std::vector<std::int64_t>{1, 2})), "[1, 2]");
}

}  // namespace
}  // namespace kiq
