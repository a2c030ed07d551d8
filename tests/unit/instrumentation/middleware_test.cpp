// Job tracing middleware: names, kinds, attributes, events, inject/extract, propagation styles,
// poller re-push, nested enqueue, semconv modes, failures.
#include <gtest/gtest.h>

#include "kiq/instrumentation/testing.hpp"
#include "kiq/otel/propagation.hpp"
#include "kiq/otel/tracer_provider.hpp"
#include "kiq/tracing.hpp"
#include "unit/instrumentation/span_helpers.hpp"

namespace kiq {
namespace {

using otel::SpanKind;
using otel::StatusCode;
using otel::sdk::SpanData;
using testing::TracingHarness;
using tracing::PropagationStyle;
using tracing::SemconvMode;
using tracing::TracingOptions;
using namespace kiq::test;

constexpr const char* kRubyTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TracingOptions opts(PropagationStyle style = PropagationStyle::kLink,
                    SemconvMode semconv = SemconvMode::kOld) {
  TracingOptions o;
  o.propagation_style = style;
  o.semconv = semconv;
  return o;
}

struct Recorder {
  Json last_job;
  std::string baggage_user;
  std::string inner_jid;
};

JobRegistry registry_with(Recorder& rec) {
  JobRegistry r;
  r.add("NoopJob", [&rec](JobContext& ctx, const Json&) {
    rec.last_job = ctx.job();
    if (auto v = otel::current_context().baggage().get("user")) rec.baggage_user = *v;
  });
  r.add("InnerSpanJob", [&rec](JobContext& ctx, const Json&) {
    otel::get_tracer("app")->in_span("inner", [&] { rec.inner_jid = std::string(tracing::current_job_jid()); });
  });
  r.add("FailJob", [](JobContext&, const Json&) { throw std::runtime_error("boom"); }, {.retry = 3});
  r.add("NoRetryFailJob", [](JobContext&, const Json&) { throw std::runtime_error("boom"); }, {.retry = false});
  r.add("ZeroRetryFailJob", [](JobContext&, const Json&) { throw std::runtime_error("boom"); }, {.retry = 0});
  r.add("ParentJob", [](JobContext& ctx, const Json&) { ctx.client().perform_async("NoopJob", Json::array({1})); },
        {.queue = "parents"});
  return r;
}

TEST(TracingMiddleware, ProducerAndConsumerSpansHaveRubyNamesKindsAndAttributes) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts());
  auto jid = t.client().perform_async("NoopJob", Json::array({1, "x"}));
  ASSERT_TRUE(jid);

  auto publish = t.find("default publish");
  auto process = t.find("default process");
  ASSERT_TRUE(publish) << t.render();
  ASSERT_TRUE(process) << t.render();
  EXPECT_EQ(publish->kind, SpanKind::kProducer);
  EXPECT_EQ(process->kind, SpanKind::kConsumer);
  for (const SpanData* s : {&*publish, &*process}) {
    EXPECT_EQ(str(*s, "messaging.system"), "sidekiq");
    EXPECT_EQ(str(*s, "messaging.destination"), "default");
    EXPECT_EQ(str(*s, "messaging.destination_kind"), "queue");
    EXPECT_EQ(str(*s, "messaging.sidekiq.job_class"), "NoopJob");
    EXPECT_EQ(str(*s, "messaging.message_id"), *jid);
    EXPECT_EQ(boolean(*s, "sidekiq.job.retry"), true);
    EXPECT_EQ(str(*s, "sidekiq.job.queue"), "default");
    EXPECT_EQ(str(*s, "sidekiq.job.jid"), *jid);
    EXPECT_EQ(str(*s, "sidekiq.worker.name"), "NoopJob");
    EXPECT_FALSE(attr(*s, "peer.service"));
  }
  EXPECT_FALSE(attr(*publish, "messaging.operation"));  // Ruby sets it only on process
  EXPECT_EQ(str(*process, "messaging.operation"), "process");
  EXPECT_EQ(event_names(*publish), std::vector<std::string>{"created_at"});
  EXPECT_EQ(event_names(*process), (std::vector<std::string>{"created_at", "enqueued_at"}));
  EXPECT_EQ(process->status_code, StatusCode::kUnset);
  ASSERT_TRUE(attr(*process, "job.queue_wait_time_ms"));
  EXPECT_FALSE(event(*process, "long_queue_wait"));
}

TEST(TracingMiddleware, CreatedAtEventCarriesTheJobsTimestamp) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts());
  t.client().perform_async("NoopJob");
  auto publish = t.find("default publish");
  ASSERT_TRUE(publish);
  double created = rec.last_job.at("created_at").get<double>();
  auto expected = static_cast<std::uint64_t>(created * 1e9);
  auto got = publish->events.at(0).time_unix_nano;
  EXPECT_NEAR(static_cast<double>(got), static_cast<double>(expected), 2000.0);  // float rounding
}

TEST(TracingMiddleware, InjectsTraceparentAsTopLevelStringKeyOfTheJobHash) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts());
  t.client().perform_async("NoopJob");
  auto publish = t.find("default publish");
  ASSERT_TRUE(publish);
  ASSERT_TRUE(rec.last_job.contains("traceparent")) << rec.last_job.dump();
  EXPECT_EQ(rec.last_job["traceparent"],
            otel::TraceContextPropagator::format_traceparent(publish->context));
  EXPECT_FALSE(rec.last_job.contains("tracestate"));  // only when non-empty
  EXPECT_FALSE(rec.last_job.contains("baggage"));     // only when non-empty
}

TEST(TracingMiddleware, InjectsBaggageAndTheJobSeesItWhileRunning) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts());
  {
    otel::Scope scope(otel::current_context().with_baggage(otel::Baggage().set("user", "alice")));
    t.client().perform_async("NoopJob");
  }
  EXPECT_EQ(rec.last_job.value("baggage", ""), "user=alice");
  EXPECT_EQ(rec.baggage_user, "alice");
}

TEST(TracingMiddleware, LinkStyleStartsANewTraceLinkedToTheEnqueueSpan) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts(PropagationStyle::kLink));
  t.client().perform_async("NoopJob");
  auto publish = t.find("default publish");
  auto process = t.find("default process");
  ASSERT_TRUE(publish && process);
  EXPECT_FALSE(process->has_parent());
  EXPECT_NE(process->context.trace_id(), publish->context.trace_id());
  ASSERT_EQ(process->links.size(), 1u);
  EXPECT_EQ(process->links[0].context.trace_id(), publish->context.trace_id());
  EXPECT_EQ(process->links[0].context.span_id(), publish->context.span_id());
  EXPECT_TRUE(process->links[0].attributes.empty());
}

TEST(TracingMiddleware, ChildStyleParentsTheProcessSpanOnTheEnqueueSpan) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts(PropagationStyle::kChild));
  t.client().perform_async("NoopJob");
  auto publish = t.find("default publish");
  auto process = t.find("default process");
  ASSERT_TRUE(publish && process);
  EXPECT_EQ(process->context.trace_id(), publish->context.trace_id());
  EXPECT_EQ(process->parent_span_id, publish->context.span_id());
  EXPECT_TRUE(process->parent_is_remote);
  EXPECT_TRUE(process->links.empty());
}

TEST(TracingMiddleware, NoneStyleIsARootWithoutLinks) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts(PropagationStyle::kNone));
  t.client().perform_async("NoopJob");
  auto publish = t.find("default publish");
  auto process = t.find("default process");
  ASSERT_TRUE(publish && process);
  EXPECT_FALSE(process->has_parent());
  EXPECT_TRUE(process->links.empty());
  EXPECT_NE(process->context.trace_id(), publish->context.trace_id());
}

TEST(TracingMiddleware, ExtractsAContextWrittenByRuby) {
  Recorder rec;
  auto registry = registry_with(rec);
  for (auto style : {PropagationStyle::kLink, PropagationStyle::kChild}) {
    TracingHarness t(registry, opts(style));
    Json job = {{"class", "NoopJob"}, {"args", Json::array()}, {"queue", "default"},
                {"jid", "b4a577edbccf1d805744efa9"}, {"retry", true},
                {"created_at", 1700000000.123456}, {"enqueued_at", 1700000000.1235},
                {"traceparent", kRubyTraceparent}, {"tracestate", "rojo=00f067aa0ba902b7"}};
    t.jobs().perform(job);
    auto process = t.find("default process");
    ASSERT_TRUE(process) << t.render();
    if (style == PropagationStyle::kLink) {
      ASSERT_EQ(process->links.size(), 1u);
      EXPECT_EQ(process->links[0].context.trace_id().to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
      EXPECT_EQ(process->links[0].context.span_id().to_hex(), "00f067aa0ba902b7");
      EXPECT_EQ(process->links[0].context.trace_state().to_header(), "rojo=00f067aa0ba902b7");
    } else {
      EXPECT_EQ(process->context.trace_id().to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
      EXPECT_EQ(process->parent_span_id.to_hex(), "00f067aa0ba902b7");
      EXPECT_EQ(process->context.trace_state().to_header(), "rojo=00f067aa0ba902b7");
    }
    // Old jobs wait long: the tutorial's long_queue_wait event.
    auto wait = event(*process, "long_queue_wait");
    ASSERT_TRUE(wait);
    EXPECT_GT(i64(wait->attributes, "wait_time_seconds").value_or(0), 60);
    EXPECT_GT(i64(*process, "job.queue_wait_time_ms").value_or(0), 60000);
  }
}

TEST(TracingMiddleware, GarbageTraceparentIsIgnored) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts(PropagationStyle::kLink));
  Json job = {{"class", "NoopJob"}, {"args", Json::array()}, {"queue", "default"},
              {"jid", "b4a577edbccf1d805744efa9"}, {"traceparent", "00-XYZ-nonsense-01"},
              {"baggage", 42}, {"created_at", 1e300}, {"enqueued_at", "yesterday"},
              {"scheduled_at", -5}, {"retry", "maybe"}};
  EXPECT_NO_THROW(t.jobs().perform(job));
  auto process = t.find("default process");
  ASSERT_TRUE(process);
  EXPECT_TRUE(process->links.empty());
  EXPECT_TRUE(process->events.empty());
  EXPECT_FALSE(attr(*process, "job.queue_wait_time_ms"));
  EXPECT_FALSE(attr(*process, "schedule.drift_seconds"));
}

// A propagator of the user's own reads its key from the job hash too (the W3C keys are
// answered from the middleware's one pass over the hash, any other key by lookup).
class TenantPropagator final : public otel::TextMapPropagator {
 public:
  void inject(const otel::Context&, otel::TextMapCarrier&) const override {}
  otel::Context extract(const otel::TextMapCarrier& carrier,
                        const otel::Context& context) const override {
    auto tenant = carrier.get("x-tenant");
    auto parent = carrier.get("traceparent");
    if (!tenant || !parent) return context;
    return context.with_baggage(context.baggage().set("user", std::string(*tenant)));
  }
  std::vector<std::string> fields() const override { return {"x-tenant", "traceparent"}; }
};

TEST(TracingMiddleware, ACustomPropagatorReadsItsOwnKeysFromTheJobHash) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts());
  const otel::PropagatorPtr before = otel::global_propagator();
  otel::set_global_propagator(std::make_shared<TenantPropagator>());
  Json job = {{"class", "NoopJob"}, {"args", Json::array()}, {"queue", "default"},
              {"jid", "b4a577edbccf1d805744efa9"}, {"traceparent", kRubyTraceparent},
              {"x-tenant", "bob"}};
  t.jobs().perform(job);
  otel::set_global_propagator(before);
  EXPECT_EQ(rec.baggage_user, "bob");
}

TEST(TracingMiddleware, PollerRepushKeepsTheOriginalTraceparentAndMakesNoSpan) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts());
  auto mw = tracing::make_client_middleware(opts());
  for (auto origin : {PushOrigin::kScheduler, PushOrigin::kRetry}) {
    Json job = {{"class", "NoopJob"}, {"args", Json::array()}, {"queue", "default"},
                {"jid", "b4a577edbccf1d805744efa9"}, {"traceparent", kRubyTraceparent}};
    ClientCall call{job, "default", origin};
    bool called = false;
    EXPECT_TRUE(mw->call(call, [&] { return called = true; }));
    EXPECT_TRUE(called);
    EXPECT_EQ(job["traceparent"], kRubyTraceparent);
  }
  EXPECT_TRUE(t.spans().empty()) << t.render();
}

TEST(TracingMiddleware, TracePollerOptionSpansTheRepushWithoutInjecting) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts());
  auto o = opts();
  o.trace_poller = true;
  auto mw = tracing::make_client_middleware(o);
  Json job = {{"class", "NoopJob"}, {"args", Json::array()}, {"queue", "default"},
              {"jid", "b4a577edbccf1d805744efa9"}, {"traceparent", kRubyTraceparent}};
  ClientCall call{job, "default", PushOrigin::kScheduler};
  EXPECT_TRUE(mw->call(call, [] { return true; }));
  EXPECT_EQ(job["traceparent"], kRubyTraceparent);
  auto span = t.find("kiq.scheduler enqueue");
  ASSERT_TRUE(span);
  EXPECT_EQ(span->kind, SpanKind::kInternal);
}

TEST(TracingMiddleware, JobsEnqueuedInsideAJobJoinItsTrace) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts(PropagationStyle::kChild));
  t.client().perform_async("ParentJob");
  auto parent = t.find("parents process");
  auto publish = t.find("default publish");
  auto child = t.find("default process");
  ASSERT_TRUE(parent && publish && child) << t.render();
  EXPECT_EQ(publish->parent_span_id, parent->context.span_id());
  EXPECT_EQ(child->context.trace_id(), parent->context.trace_id());
  EXPECT_EQ(child->parent_span_id, publish->context.span_id());
  // The publish span describes the new job, not the running one.
  EXPECT_EQ(str(*publish, "sidekiq.job.jid"), rec.last_job["jid"].get<std::string>());
}

TEST(TracingMiddleware, SpansInsideAJobCarryItsJid) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts());
  auto jid = t.client().perform_async("InnerSpanJob");
  auto inner = t.find("inner");
  ASSERT_TRUE(inner && jid);
  EXPECT_EQ(str(*inner, "sidekiq.job.jid"), *jid);
  EXPECT_EQ(str(*inner, "sidekiq.job.class"), "InnerSpanJob");
  EXPECT_EQ(rec.inner_jid, *jid);
  EXPECT_TRUE(tracing::current_job_jid().empty());
}

TEST(TracingMiddleware, FailureRecordsExceptionStatusAndOutcomeThenRethrows) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts());
  struct Case {
    const char* job;
    const char* outcome;
    bool will_retry;
  };
  for (Case c : {Case{"FailJob", "retry", true}, Case{"NoRetryFailJob", "dropped", false},
                 Case{"ZeroRetryFailJob", "dead", false}}) {
    t.reset();
    EXPECT_THROW(t.client().perform_async(c.job), std::runtime_error);
    auto process = t.find("default process");
    ASSERT_TRUE(process) << c.job;
    EXPECT_EQ(process->status_code, StatusCode::kError);
    EXPECT_EQ(process->status_description, "Unhandled exception of type: std::runtime_error");
    ASSERT_EQ(process->events.size(), 3u);
    EXPECT_EQ(process->events[2].name, "exception");
    EXPECT_EQ(str(process->events[2].attributes, "exception.type"), "std::runtime_error");
    EXPECT_EQ(str(process->events[2].attributes, "exception.message"), "boom");
    EXPECT_EQ(str(*process, "kiq.job.outcome"), c.outcome) << c.job;
    EXPECT_EQ(boolean(*process, "sidekiq.job.will_retry"), c.will_retry) << c.job;
    EXPECT_FALSE(attr(*process, "error.type"));  // old semconv: Ruby sets none
  }
}

TEST(TracingMiddleware, RetriedJobGetsRetryCountAndEvent) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts());
  Json job = {{"class", "NoopJob"}, {"args", Json::array()}, {"queue", "default"},
              {"jid", "b4a577edbccf1d805744efa9"}, {"retry_count", 2},
              {"error_class", "Net::ReadTimeout"}, {"enqueued_at", epoch_now()}};
  t.jobs().perform(job);
  auto process = t.find("default process");
  ASSERT_TRUE(process);
  EXPECT_EQ(i64(*process, "job.retry_count"), 2);
  auto e = event(*process, "job.retry");
  ASSERT_TRUE(e);
  EXPECT_EQ(i64(e->attributes, "retry_count"), 2);
  EXPECT_EQ(str(e->attributes, "error_class"), "Net::ReadTimeout");
  EXPECT_FALSE(event(*process, "long_queue_wait"));
}

TEST(TracingMiddleware, ScheduledJobDriftAttributeAndEvent) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts());
  double now = epoch_now();
  Json late = {{"class", "NoopJob"}, {"args", Json::array()}, {"queue", "default"},
               {"jid", "b4a577edbccf1d805744efa9"}, {"scheduled_at", now - 400}, {"enqueued_at", now}};
  t.jobs().perform(late);
  auto process = t.find("default process");
  ASSERT_TRUE(process);
  EXPECT_GE(i64(*process, "schedule.drift_seconds").value_or(0), 400);
  auto e = event(*process, "schedule.drift");
  ASSERT_TRUE(e);
  EXPECT_EQ(i64(e->attributes, "drift_minutes"), 6);
  EXPECT_TRUE(str(e->attributes, "expected_time"));
  EXPECT_TRUE(str(e->attributes, "actual_time"));

  t.reset();
  Json on_time = late;
  on_time["scheduled_at"] = now - 2;
  t.jobs().perform(on_time);
  process = t.find("default process");
  ASSERT_TRUE(process);
  EXPECT_LE(i64(*process, "schedule.drift_seconds").value_or(99), 5);
  EXPECT_FALSE(event(*process, "schedule.drift"));
}

TEST(TracingMiddleware, NewSemconvNamesAndKeys) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts(PropagationStyle::kLink, SemconvMode::kNew));
  EXPECT_THROW(t.client().perform_async("FailJob"), std::runtime_error);
  auto publish = t.find("publish default");
  auto process = t.find("process default");
  ASSERT_TRUE(publish && process) << t.render();
  EXPECT_EQ(str(*publish, "messaging.operation.type"), "send");
  EXPECT_EQ(str(*publish, "messaging.operation.name"), "publish");
  EXPECT_EQ(str(*process, "messaging.operation.type"), "process");
  EXPECT_EQ(str(*process, "messaging.destination.name"), "default");
  EXPECT_TRUE(str(*process, "messaging.message.id"));
  EXPECT_FALSE(attr(*process, "messaging.destination"));
  EXPECT_FALSE(attr(*process, "messaging.message_id"));
  EXPECT_EQ(str(*process, "error.type"), "std::runtime_error");
}

TEST(TracingMiddleware, DupSemconvEmitsBothKeySetsWithOldNames) {
  Recorder rec;
  auto registry = registry_with(rec);
  TracingHarness t(registry, opts(PropagationStyle::kLink, SemconvMode::kDup));
  t.client().perform_async("NoopJob");
  auto process = t.find("default process");
  ASSERT_TRUE(process) << t.render();
  EXPECT_EQ(str(*process, "messaging.destination"), "default");
  EXPECT_EQ(str(*process, "messaging.destination.name"), "default");
  EXPECT_EQ(str(*process, "messaging.operation"), "process");
  EXPECT_EQ(str(*process, "messaging.operation.type"), "process");
}

TEST(TracingMiddleware, JobClassNamingPeerServiceAndWrapped) {
  Recorder rec;
  auto registry = registry_with(rec);
  auto o = opts();
  o.span_naming = tracing::SpanNaming::kJobClass;
  o.peer_service = "billing";
  TracingHarness t(registry, o);
  Json job = {{"class", "NoopJob"}, {"wrapped", "BillingJob"}, {"args", Json::array()},
              {"queue", "default"}, {"jid", "b4a577edbccf1d805744efa9"}};
  t.jobs().perform(job);
  auto process = t.find("BillingJob process");
  ASSERT_TRUE(process) << t.render();
  EXPECT_EQ(str(*process, "messaging.sidekiq.job_class"), "BillingJob");
  EXPECT_EQ(str(*process, "peer.service"), "billing");
}

TEST(TracingMiddleware, InertWithoutATracerProvider) {
  Recorder rec;
  auto registry = registry_with(rec);
  otel::set_tracer_provider(nullptr);
  ServerChain server;
  ClientChain client;
  tracing::install(client, server, opts());
  testing::Harness h(registry, testing::Mode::kInline, server, client);
  h.client().perform_async("NoopJob");
  EXPECT_FALSE(rec.last_job.contains("traceparent")) << rec.last_job.dump();
}

TEST(TracingMiddleware, InstallTwiceReplacesInsteadOfDuplicating) {
  ServerChain server;
  ClientChain client;
  tracing::install(client, server);
  tracing::install(client, server);
  EXPECT_EQ(client.entries().size(), 1u);
  EXPECT_EQ(server.entries().size(), 1u);
}

TEST(TracingOptionsParsing, UnknownValuesFallBackToDefaults) {
  EXPECT_EQ(tracing::parse_span_naming("job_class"), tracing::SpanNaming::kJobClass);
  EXPECT_EQ(tracing::parse_span_naming(":job_class"), tracing::SpanNaming::kJobClass);
  EXPECT_EQ(tracing::parse_span_naming("weird"), tracing::SpanNaming::kQueue);
  EXPECT_EQ(tracing::parse_propagation_style("child"), PropagationStyle::kChild);
  EXPECT_EQ(tracing::parse_propagation_style("NONE"), PropagationStyle::kNone);
  EXPECT_EQ(tracing::parse_propagation_style("sideways"), PropagationStyle::kLink);
  EXPECT_EQ(tracing::parse_semconv(""), SemconvMode::kOld);
  EXPECT_EQ(tracing::parse_semconv("http"), SemconvMode::kOld);
  EXPECT_EQ(tracing::parse_semconv("http, messaging"), SemconvMode::kNew);
  EXPECT_EQ(tracing::parse_semconv("messaging,messaging/dup"), SemconvMode::kDup);
  EXPECT_EQ(tracing::parse_semconv("messaging/dup"), SemconvMode::kDup);
}

}  // namespace
}  // namespace kiq
