// Tracing through a real Server on the embedded store: retries re-pushed by the poller keep the
// original trace context, scheduled jobs carry drift, every attempt is its own process span.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kiq/client.hpp"
#include "kiq/otel/sdk/exporters/in_memory.hpp"
#include "kiq/otel/sdk/simple_span_processor.hpp"
#include "kiq/otel/sdk/tracer_provider.hpp"
#include "kiq/server.hpp"
#include "kiq/store/memory.hpp"
#include "kiq/tracing.hpp"
#include "unit/instrumentation/span_helpers.hpp"

namespace kiq {
namespace {

using namespace std::chrono_literals;
using namespace kiq::test;
using otel::SpanKind;
using otel::sdk::SpanData;

struct TracedServer {
  explicit TracedServer(tracing::PropagationStyle style) {
    otel::sdk::TracerProviderOptions po;
    po.processors = {tracing::make_job_attributes_processor(),
                     std::make_shared<otel::sdk::SimpleSpanProcessor>(exporter)};
    provider = std::make_shared<otel::sdk::TracerProvider>(std::move(po));
    options.tracer_provider = provider;
    options.propagation_style = style;
    options.semconv = tracing::SemconvMode::kOld;

    registry.add("FlakyJob", [this](JobContext&, const Json&) {
      if (attempts.fetch_add(1) == 0) throw std::runtime_error("first attempt fails");
    }, {.queue = "default", .retry = 3});
    registry.add("NoopJob", [](JobContext&, const Json&) {});

    ServerOptions so;
    so.concurrency = 2;
    so.time_scale = 0.001;  // retry backoff of ~15 s becomes ~15 ms
    so.poll_interval_average = 20ms;
    so.initial_poll_delay = 10ms;
    so.fetch_timeout = 50ms;
    so.timeout = 2000ms;
    so.logger = make_null_logger("tracing-e2e");
    so.log_jobs = false;
    tracing::install(so, options);
    store = std::make_shared<MemoryStore>();
    server = std::make_unique<Server>(so, registry, store);
    client = std::make_unique<Client>(store, tracing::client_chain(options), &registry);
    server->start();
  }
  ~TracedServer() { server->stop(); }

  std::vector<SpanData> wait_for(std::size_t consumer_spans) {
    auto deadline = std::chrono::steady_clock::now() + 15s;  // generous: only avoids hangs
    while (std::chrono::steady_clock::now() < deadline) {
      server->poll_now();
      auto spans = exporter->finished_spans();
      std::size_t n = 0;
      for (const auto& s : spans) n += s.kind == SpanKind::kConsumer ? 1 : 0;
      if (n >= consumer_spans) return spans;
      std::this_thread::sleep_for(10ms);
    }
    return exporter->finished_spans();
  }

  std::shared_ptr<otel::sdk::InMemorySpanExporter> exporter = std::make_shared<otel::sdk::InMemorySpanExporter>();
  std::shared_ptr<otel::sdk::TracerProvider> provider;
  tracing::TracingOptions options;
  JobRegistry registry;
  std::atomic<int> attempts{0};
  std::shared_ptr<Store> store;
  std::unique_ptr<Server> server;
  std::unique_ptr<Client> client;
};

std::vector<SpanData> consumers(const std::vector<SpanData>& spans) {
  std::vector<SpanData> out;
  for (const auto& s : spans)
    if (s.kind == SpanKind::kConsumer) out.push_back(s);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.start_unix_nano < b.start_unix_nano; });
  return out;
}

const SpanData* producer(const std::vector<SpanData>& spans) {
  for (const auto& s : spans)
    if (s.kind == SpanKind::kProducer) return &s;
  return nullptr;
}

// trace_heartbeat: every periodic beat is a root INTERNAL span; off (the default), none.
std::vector<SpanData> heartbeat_spans(bool trace_heartbeat) {
  auto exporter = std::make_shared<otel::sdk::InMemorySpanExporter>();
  otel::sdk::TracerProviderOptions po;
  po.processors = {std::make_shared<otel::sdk::SimpleSpanProcessor>(exporter)};
  tracing::TracingOptions options;
  options.tracer_provider = std::make_shared<otel::sdk::TracerProvider>(std::move(po));
  options.trace_heartbeat = trace_heartbeat;
  options.peer_service = "redis-main";
  ServerOptions so;
  so.concurrency = 1;
  so.heartbeat_interval = 10ms;
  so.fetch_timeout = 50ms;
  so.logger = make_null_logger("tracing-heartbeat");
  tracing::install(so, options);
  auto store = std::make_shared<MemoryStore>();
  Server server(so, JobRegistry{}, store);
  server.start();
  std::vector<SpanData> beats;
  auto deadline = std::chrono::steady_clock::now() + (trace_heartbeat ? 15s : 300ms);
  while (std::chrono::steady_clock::now() < deadline && beats.size() < 3) {
    std::this_thread::sleep_for(10ms);
    beats.clear();
    for (const auto& s : exporter->finished_spans()) beats.push_back(s);
  }
  server.stop();
  return beats;
}

TEST(TracingEndToEnd, TraceHeartbeatMakesARootSpanPerBeatAndIsOffByDefault) {
  auto spans = heartbeat_spans(true);
  ASSERT_GE(spans.size(), 3u);
  for (const auto& s : spans) {
    EXPECT_EQ(s.name, "kiq.heartbeat");
    EXPECT_EQ(s.kind, SpanKind::kInternal);
    EXPECT_FALSE(s.has_parent());
    EXPECT_EQ(str(s, "peer.service"), "redis-main");
  }
  // Off: ~30 beats in 300 ms, no span at all (traces stay clean).
  EXPECT_TRUE(heartbeat_spans(false).empty());
}

TEST(TracingEndToEnd, RetryKeepsTheOriginalContextInChildStyle) {
  TracedServer ts(tracing::PropagationStyle::kChild);
  ASSERT_TRUE(ts.client->perform_async("FlakyJob"));
  auto spans = ts.wait_for(2);
  auto cs = consumers(spans);
  const SpanData* pub = producer(spans);
  ASSERT_TRUE(pub);
  ASSERT_EQ(cs.size(), 2u);
  for (const auto& c : cs) {
    EXPECT_EQ(c.context.trace_id(), pub->context.trace_id());
    EXPECT_EQ(c.parent_span_id, pub->context.span_id());
  }
  EXPECT_EQ(cs[0].status_code, otel::StatusCode::kError);
  EXPECT_EQ(str(cs[0], "kiq.job.outcome"), "retry");
  EXPECT_FALSE(attr(cs[0], "job.retry_count"));
  EXPECT_EQ(cs[1].status_code, otel::StatusCode::kUnset);
  EXPECT_EQ(i64(cs[1], "job.retry_count"), 0);
  auto retry = event(cs[1], "job.retry");
  ASSERT_TRUE(retry);
  EXPECT_EQ(str(retry->attributes, "error_class"), "std::runtime_error");
  // Only one producer span: the poller's re-push made none.
  int producers = 0;
  for (const auto& s : spans) producers += s.kind == SpanKind::kProducer ? 1 : 0;
  EXPECT_EQ(producers, 1);
}

TEST(TracingEndToEnd, RetryAttemptsLinkToTheSameEnqueueSpanInLinkStyle) {
  TracedServer ts(tracing::PropagationStyle::kLink);
  ASSERT_TRUE(ts.client->perform_async("FlakyJob"));
  auto spans = ts.wait_for(2);
  auto cs = consumers(spans);
  const SpanData* pub = producer(spans);
  ASSERT_TRUE(pub);
  ASSERT_EQ(cs.size(), 2u);
  for (const auto& c : cs) {
    ASSERT_EQ(c.links.size(), 1u);
    EXPECT_EQ(c.links[0].context.span_id(), pub->context.span_id());
    EXPECT_FALSE(c.has_parent());
  }
  EXPECT_NE(cs[0].context.trace_id(), cs[1].context.trace_id());
}

TEST(TracingEndToEnd, ScheduledJobCarriesDriftAndItsEnqueueContext) {
  TracedServer ts(tracing::PropagationStyle::kChild);
  ASSERT_TRUE(ts.client->perform_in(0.05, "NoopJob"));
  auto spans = ts.wait_for(1);
  auto cs = consumers(spans);
  const SpanData* pub = producer(spans);
  ASSERT_TRUE(pub);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].parent_span_id, pub->context.span_id());
  ASSERT_TRUE(i64(cs[0], "schedule.drift_seconds"));
  EXPECT_LT(*i64(cs[0], "schedule.drift_seconds"), 300);
  EXPECT_FALSE(event(cs[0], "schedule.drift"));
}

}  // namespace
}  // namespace kiq
